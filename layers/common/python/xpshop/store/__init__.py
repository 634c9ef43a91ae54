"""DynamoDB single-table access. Key formats live in keys.py; every expression lives in this package."""
