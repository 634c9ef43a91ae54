"""One compact log line per queue or stream record (issue 16, part 7), the record functions' counterpart of
request_log.py's line per API request.

    {"rec":"xp_consumer","id":"<SQS messageId>","g":"<guild id>","k":"message","o":"applied","ms":1.2}

Keys (short: CloudWatch Logs bills every byte, and the busiest records, one per chat message, log in three
functions; a line is ~130-190 bytes; docs/RUNBOOK.md "Logs" lists the kinds and outcomes):

- `rec`: the function (its CodeUri folder); its presence marks a record line (`filter ispresent(rec)`);
- `id`: the correlation id: the SQS messageId, the stream record's eventID, the schedule event's id;
- `seq`: a stream record's sequence number (what the rank counters' guard compares);
- `g`: the guild id (only a well-formed snowflake; null when the record has none or cannot be read);
- `k`: what the record is (`message`, `messages`, `member-leave`, `xp-change`, `level-change` ...);
- `o`: what came of it (`applied`, `cooldown`, `duplicate`, `set-aside`, `failed`, `deferred` ... per function,
  docs/RUNBOOK.md lists them);
- `ms`: milliseconds of the record's processing, or its share of the batch's when records are applied together
  (`ap: 1`: apportioned; the message consumer's run of a member's messages, the rank index's batch);
- `n`: how many a record held (a run's messages, a scheduled recalculation's guilds) when not one;
- `err`: a failure's exception type (and AWS error code), never its message.

Never the message's content, a member id, a key, secret or token: the callers pass ids and labels only, and
the guild is checked to be a snowflake here. Written straight to stdout (as Powertools' lines are, without its
~250 bytes of Lambda context per line). When the function's log level is above INFO (POWERTOOLS_LOG_LEVEL, the
template's LogLevel: the cheap setting) only the TROUBLE outcomes are written (retried, set aside, refused, lost).
Standard library only, and nothing loaded beyond what every function has already: no cold-start cost.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

# Outcomes worth a line whatever the log level: the record is retried, set aside or lost.
TROUBLE = frozenset({"failed", "set-aside", "deferred", "dropped", "job-failed", "refused"})
_QUIET = frozenset({"WARNING", "WARN", "ERROR", "CRITICAL"})


def _guild(value: object) -> str | None:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if text.isdigit() and 17 <= len(text) <= 20 and text.isascii() else None


def error_label(exc: BaseException) -> str:
    """A failure as a line may carry it: its type, and an AWS error's code (never the message: it may quote
    the request)."""
    code = getattr(exc, "response", None)
    code = code.get("Error", {}).get("Code") if isinstance(code, dict) else None
    name = type(exc).__name__
    return f"{name}:{code}" if isinstance(code, str) and code.isidentifier() else name


def verbose() -> bool:
    """Whether every record logs (log level INFO or DEBUG), or only the troubled ones."""
    return os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO").upper() not in _QUIET


def line(
    function: str,
    record_id: str | None,
    guild: object,
    kind: str,
    outcome: str,
    *,
    ms: float,
    seq: str | None = None,
    apportioned: bool = False,
    n: int | None = None,
    err: BaseException | None = None,
) -> dict[str, Any] | None:
    """Write one record's line (and return it; None when the log level leaves it out)."""
    if outcome not in TROUBLE and not verbose():
        return None
    out: dict[str, Any] = {"rec": function, "id": record_id}
    if seq is not None:
        out["seq"] = seq
    out.update(g=_guild(guild), k=kind, o=outcome, ms=round(ms, 1))
    if apportioned:
        out["ap"] = 1
    if n is not None and n != 1:
        out["n"] = n
    if err is not None:
        out["err"] = error_label(err)
    sys.stdout.write(json.dumps(out, separators=(",", ":")) + "\n")
    return out


class Clock:
    """Milliseconds since the last `lap()` (or since made): a record's processing time, one after another."""

    __slots__ = ("_at",)

    def __init__(self) -> None:
        self._at = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        took, self._at = (now - self._at) * 1000, now
        return took
