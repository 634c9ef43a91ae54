"""Counters for what an operator alarms on, as CloudWatch embedded metric format (EMF) log lines.

Each count is flushed at once (Powertools' single_metric), so no handler needs a metrics decorator and a
count survives the invocation failing afterwards. Namespace from POWERTOOLS_METRICS_NAMESPACE (template).
Dimensions stay low-cardinality (never a guild or user id: those go in the log line beside it): every
count carries `service` (Powertools, POWERTOOLS_SERVICE_NAME) and `stage` (XPSHOP_STAGE, the template's
Stage), so two stacks in one account keep their numbers apart and the dashboard names its own.

The names below are the only ones emitted; template.yaml's dashboard graphs each (a test checks that).
A path that handles many records at once counts per batch, not per record: an EMF line costs a log line.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger(child=True)

# Earned XP: relayed messages and commands that earned XP (not the ones in cooldown or in a no-XP channel),
# counted per consumer batch (service/messages.py). Value: how many awards.
XP_AWARDS = "XpAwards"
# Members who went up a level by their own XP or an admin's (not by a recalculation: a curve change would
# count thousands), once per applied stream record (service/effects.py).
LEVEL_UPS = "LevelUps"
# Cosmetics bought (API and /buy; grants and coupon cosmetics are not purchases).
PURCHASES = "Purchases"
# Coupons redeemed (API and /redeem).
COUPON_REDEEMS = "CouponRedeems"
# Member XP records written by an import (counted per request or job chunk that wrote them; a dry run and a
# row already equal to the file write nothing and count nothing).
IMPORTS = "Imports"
# Discord interactions refused for a bad, missing or stale signature (401). Discord probes the endpoint with
# a bad signature when it is saved, so a few are normal; a stream of them means the public key is wrong.
SIGNATURE_FAILURES = "SignatureFailures"
# Relayed records that can never be applied, set aside on the messages' dead-letter queue (their XP is lost).
POISON_MESSAGES = "PoisonMessages"
# Role rewards skipped because the role gained a dangerous permission since it was configured.
REWARD_ROLE_SKIPPED_UNSAFE = "RewardRoleSkippedUnsafe"

ALL = (
    XP_AWARDS,
    LEVEL_UPS,
    PURCHASES,
    COUPON_REDEEMS,
    IMPORTS,
    SIGNATURE_FAILURES,
    POISON_MESSAGES,
    REWARD_ROLE_SKIPPED_UNSAFE,
)

STAGE_DIMENSION = "stage"
LOCAL_STAGE = "local"  # outside Lambda (make dev sets POWERTOOLS_METRICS_DISABLED anyway)


def count(name: str, value: int = 1, **dimensions: str) -> None:
    """Emit one count now. Never raises: a metric must not fail the work it counts."""
    try:
        with single_metric(name=name, unit=MetricUnit.Count, value=value) as metric:
            metric.add_dimension(name=STAGE_DIMENSION, value=os.environ.get("XPSHOP_STAGE") or LOCAL_STAGE)
            for key, dimension in dimensions.items():
                metric.add_dimension(name=key, value=dimension)
    except Exception:
        logger.exception("could not emit a metric", extra={"metric": name, "value": value})
