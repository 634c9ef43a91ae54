"""Benchmarks: DynamoDB requests, consumed capacity and latency per operation (`make bench`)."""
