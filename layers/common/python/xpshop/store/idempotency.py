"""Powertools idempotency persistence in the single table (PK = IDEMPOTENCY#<function>, SK = hash)."""

from __future__ import annotations

import functools
import os

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from .. import snapstart
from . import keys
from .table import plain_client, table_name


@functools.cache
def persistence_layer() -> DynamoDBPersistenceLayer:
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
    return DynamoDBPersistenceLayer(
        table_name=table_name(),
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value=keys.idempotency_pk(function),
        expiry_attr="ttl",
        boto3_client=plain_client(),  # the store's retry policy (store/table.py), not botocore's defaults
    )


snapstart.on_restore(persistence_layer.cache_clear)  # its boto3 client's connections
