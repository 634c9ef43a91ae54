"""boto3's condition builders, `Key` and `Attr`, loaded on their first use.

`boto3.dynamodb.conditions` imports boto3 and with it botocore's whole client machinery (~100 ms of a cold
start); the store modules build conditions only inside their operations, so importing them costs nothing
until a request reaches DynamoDB (see `table`). Same objects, same expressions: these return boto3's own,
under boto3's names so call sites read as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from boto3.dynamodb.conditions import Attr as AttrType
    from boto3.dynamodb.conditions import Key as KeyType


def Key(name: str) -> KeyType:
    from boto3.dynamodb.conditions import Key as BotoKey

    return BotoKey(name)


def Attr(name: str) -> AttrType:
    from boto3.dynamodb.conditions import Attr as BotoAttr

    return BotoAttr(name)
