"""Local runner for xpshop: DynamoDB Local plus an in-process HTTP API, no Docker and no AWS.

- ``python -m local.dev``: serve the template's HttpApi routes on http://127.0.0.1:3000
- ``python -m local.invoke <LogicalId> <event.json>``: the in-process ``sam local invoke``
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TABLE_NAME = "xpshop-local"
