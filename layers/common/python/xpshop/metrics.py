"""Counters for what an operator alarms on, as CloudWatch embedded metric format (EMF) log lines.

Each count is flushed at once (Powertools' single_metric), so no handler needs a metrics decorator and a
count survives the invocation failing afterwards. Namespace from POWERTOOLS_METRICS_NAMESPACE (template).
Dimensions stay low-cardinality (never a guild or user id: those go in the log line beside it).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger(child=True)


def count(name: str, value: int = 1, **dimensions: str) -> None:
    """Emit one count now. Never raises: a metric must not fail the work it counts."""
    try:
        with single_metric(name=name, unit=MetricUnit.Count, value=value) as metric:
            for key, dimension in dimensions.items():
                metric.add_dimension(name=key, value=dimension)
    except Exception:
        logger.exception("could not emit a metric", extra={"metric": name, "value": value})
