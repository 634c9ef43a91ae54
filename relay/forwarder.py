"""Batch events and POST them to one of xpshop's ingestion endpoints (asyncio + aiohttp, no discord.py): chat
messages to /api/xp/ingest/messages (`{"messages": [...]}`), member events to /api/xp/ingest/members
(`{"events": [...]}`, see `for_members`).

Delivery is at least once: a batch is retried on 408/429/5xx and connection errors (the backend deduplicates
by messageId or eventId), and dropped without retry on other answers (401/403: wrong relay key, 404: wrong
URL...). A batch refused as a whole for its content (400, 413, 422) is sent again in halves until only the
events refused on their own are dropped. Events are validated on `submit` with the backend's rules, so that is rare.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from .events import Event, InvalidEvent, validate_event, validate_member_event
from .hold import MemberHold

logger = logging.getLogger(__name__)

MAX_BATCH = 100  # the endpoint's limit
# How long the oldest queued event may wait for company before its batch is sent. Every request costs the
# same whatever it carries (API Gateway, two Lambda invocations, SQS sends, receives and deletes, log lines),
# so a quiet relay pays per request: at 1M messages a month (0.39/s) a 1 s window gathers 1.39 messages a
# request, 5 s gather 2.93. Cooldowns are judged by each message's own timestamp, so the window changes how
# soon XP shows, never how much. A busy relay fills its batches (100) long before the window ends, and the
# backend's ingestion window (7 days old, SQS deduplication 5 minutes) is far away.
DEFAULT_MAX_DELAY = 5.0
RETRYABLE = frozenset({408, 425, 429})  # and every 5xx
AUTH_FAILURES = frozenset({401, 403})
SPLITTABLE = frozenset({400, 413, 422})  # refused for what the batch holds: halves may pass


def default_session_factory() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30, connect=10))


@dataclass
class Counters:
    """What happened to the events so far (`dropped` counts every lost event, whatever the reason)."""

    submitted: int = 0  # accepted by submit() into the queue
    sent: int = 0  # delivered: answered 2xx by the backend
    dropped: int = 0  # lost: queue full, invalid, refused by the backend, retries exhausted, after stop
    queue_full: int = 0  # of which: refused by submit() because the queue was full
    invalid: int = 0  # of which: refused by submit() because the backend would refuse them
    retried: int = 0  # retry attempts (a batch retried 3 times counts 3)
    failed_batches: int = 0  # batches given up (refused or out of attempts)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Forwarder:
    """Queue events, batch them (up to `max_batch` events or `max_delay` seconds) and POST them with retries.

    The window is counted from the oldest queued event: a batch goes when it is full (at once), when its
    first event has waited `max_delay`, on `flush` and on `stop`. So no event waits longer than `max_delay`
    (plus delivery), a busy stream goes out in full batches without waiting, and a quiet one shares requests.
    With `member_window` (relay/hold.py) messages are first held per member and queued when their group is
    released: a message then waits up to `member_window` + `max_delay` (plus delivery).

    `submit` must be called from the event loop's thread (discord.py's event handlers are). The forwarder
    opens its HTTP session with `session_factory` on `start` and closes it on `stop`.
    """

    def __init__(
        self,
        url: str,
        relay_key: str,
        *,
        max_batch: int = MAX_BATCH,
        max_delay: float = DEFAULT_MAX_DELAY,
        max_queue: int = 10_000,
        max_attempts: int = 8,
        session_factory: Callable[[], aiohttp.ClientSession] = default_session_factory,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        base_backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 300.0,
        stop_timeout: float | None = 60.0,
        body_key: str = "messages",
        validate: Callable[[Mapping[str, Any]], Event] = validate_event,
        member_window: float = 0.0,
    ) -> None:
        if not url:
            raise ValueError("url is required")
        if not relay_key:
            raise ValueError("relay_key is required")
        if not 1 <= max_batch <= MAX_BATCH:
            raise ValueError(f"max_batch must be between 1 and {MAX_BATCH}")
        if max_delay < 0 or max_queue < 1 or max_attempts < 1:
            raise ValueError("max_delay must be >= 0, max_queue and max_attempts >= 1")
        if member_window < 0:
            raise ValueError("member_window must be >= 0")
        self.url = url
        self.body_key = body_key
        self._validate = validate
        self._headers = {"X-API-Key": relay_key, "Content-Type": "application/json"}
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.max_queue = max_queue
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.stop_timeout = stop_timeout
        self._session_factory = session_factory
        self._sleep = sleep
        self.counters = Counters()
        # (monotonic time of submit, event), oldest first
        self._queue: deque[tuple[float, Event]] = deque()
        self._wake = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._in_flight = 0
        self._stopping = False
        self._urgent = 0  # events at the head of the queue that `flush` asked to send without waiting
        # Messages held per member before they are queued (relay/hold.py): off at 0. At most `max_queue` held,
        # besides the queue's own `max_queue`; a member's group is released whole, at most a batch.
        self._hold = MemberHold(member_window, max_group=max_batch, max_held=max_queue) if member_window > 0 else None

    @classmethod
    def for_members(cls, url: str, relay_key: str, **options: Any) -> Forwarder:
        """A forwarder of member events (leaves, bans) to POST /api/xp/ingest/members."""
        return cls(url, relay_key, body_key="events", validate=validate_member_event, **options)

    # --- public API ----------------------------------------------------------------------------------

    @property
    def queued(self) -> int:
        """Events in the queue (the member window's held messages are `held`, not queued yet)."""
        return len(self._queue)

    @property
    def held(self) -> int:
        return len(self._hold) if self._hold is not None else 0

    def stats(self) -> dict[str, int]:
        return {**asdict(self.counters), "queued": len(self._queue), "held": self.held}

    def submit(self, event: Mapping[str, Any]) -> bool:
        """Queue one event without blocking; False (and counted) when it is invalid, the queue is full or stopped.

        Back-pressure drops the NEWEST event (this one), not the oldest: the caller's False then means
        exactly "this event was not taken", the queued events keep their order and none already accepted
        is silently discarded. Either way a message is lost while the backend is unreachable; which one
        matters little for XP (members earn XP at most once per cooldown, so bursts are mostly redundant).
        """
        if self._stopping:
            self.counters.dropped += 1
            return False
        try:
            checked = self._validate(event)
        except InvalidEvent as exc:
            self.counters.invalid += 1
            self.counters.dropped += 1
            logger.warning("relay: invalid event not queued: %s", exc)
            return False
        if len(self._queue) >= self.max_queue:
            self.counters.queue_full += 1
            self.counters.dropped += 1
            if self.counters.queue_full == 1 or self.counters.queue_full % 1000 == 0:
                logger.warning(
                    "relay: queue full (%d events), dropping new events (%d so far)",
                    self.max_queue,
                    self.counters.queue_full,
                )
            return False
        now = time.monotonic()
        self.counters.submitted += 1
        if self._hold is not None:
            was_holding = len(self._hold) > 0
            released = self._hold.add(checked, now)
            if not was_holding:
                self._wake.set()  # the sender learns when this group is due
            self._enqueue(released, now)
            return True
        self._enqueue([checked], now)
        return True

    def _enqueue(self, events: list[Event], now: float) -> None:
        if not events:
            return
        was = len(self._queue)
        self._queue.extend((now, event) for event in events)
        # Wake the sender when a batch starts (its delay starts) or fills up; not on every event.
        if was == 0 or len(self._queue) >= self.max_batch:
            self._wake.set()

    def flush(self, member: tuple[str, str] | None = None) -> None:
        """Send what is queued now, without waiting for the rest of the window (events submitted later wait
        as usual). For an event that must not trail what came before it: a member leaving after their last
        messages (the two go to different endpoints). With the member window on, `member` (guild id, user id)
        releases that member's held messages first, behind what is queued (other members stay held); without
        it everything held goes."""
        if self._hold is not None:
            held = self._hold.drain() if member is None else self._hold.release(member)
            self._queue.extend((time.monotonic(), event) for event in held)
        if self._queue:
            self._urgent = len(self._queue)
            self._wake.set()

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the forwarder is already started")
        self._stopping = False
        self._session = self._session_factory()
        self._task = asyncio.create_task(self._run(), name="relay-forwarder")

    async def stop(self, timeout: float | None = None) -> None:
        """Send what is queued (without waiting for `max_delay`), then close the session.

        Gives up after `timeout` seconds (default `stop_timeout`; the backend may be down): the events left
        are counted as dropped.
        """
        timeout = self.stop_timeout if timeout is None else max(0.0, timeout)
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                lost = len(self._queue) + self._in_flight + self.held
                self._queue.clear()
                if self._hold is not None:
                    self._hold.drain()
                self._in_flight = self._urgent = 0
                self.counters.dropped += lost
                logger.error("relay: stop timed out after %ss, %d events dropped", timeout, lost)
        if self._session is not None:
            await self._session.close()
            self._session = None
        logger.info("relay: forwarder stopped %s", self.stats())

    # --- the sender ----------------------------------------------------------------------------------

    def _release_held(self) -> float | None:
        """Queue the held groups that are due (all of them when stopping); seconds until the next is due."""
        if self._hold is None:
            return None
        now = time.monotonic()
        self._enqueue(self._hold.drain() if self._stopping else self._hold.due(now), now)
        due = self._hold.next_due()
        return None if due is None else max(0.0, due - now)

    async def _wait(self, timeout: float | None) -> None:
        self._wake.clear()
        if timeout is None:
            await self._wake.wait()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _run(self) -> None:
        while True:
            next_held = self._release_held()
            if not self._queue:
                if self._stopping:
                    return
                await self._wait(next_held)
                continue
            if len(self._queue) < self.max_batch and not self._stopping and not self._urgent:
                remaining = self._queue[0][0] + self.max_delay - time.monotonic()
                if remaining > 0:
                    # until the delay passes, the batch fills up, flush() or stop() is called, or a held
                    # group is due (it may fill the batch)
                    await self._wait(remaining if next_held is None else min(remaining, next_held))
                    continue
            batch = [self._queue.popleft()[1] for _ in range(min(self.max_batch, len(self._queue)))]
            self._urgent = max(0, self._urgent - len(batch))
            self._in_flight = len(batch)
            try:
                await self._deliver(batch)
            except asyncio.CancelledError:
                raise
            except Exception:  # the sender must outlive any surprise; the batch is lost, not the relay
                logger.exception("relay: unexpected error, %d events dropped", len(batch))
                self.counters.failed_batches += 1
                self.counters.dropped += len(batch)
            self._in_flight = 0

    async def _deliver(self, batch: list[Event]) -> None:
        """POST one batch until it is accepted, refused, or out of attempts (everything is counted).

        Out of attempts only while the queue holds as many events as it may (`max_queue`, this batch
        included; messages held by the member window come on top, at most `max_queue` more): during a
        backend outage the head batch keeps being retried (at `max_backoff`) and the events behind it wait
        in the queue, so an outage loses nothing until the queue is full."""
        session = self._session
        if session is None:
            raise RuntimeError("the forwarder is not started")
        body = {self.body_key: batch}
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                async with session.post(self.url, json=body, headers=self._headers) as response:
                    status = response.status
                    text = await response.text()
                    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                status, text = None, f"{type(exc).__name__}: {exc}"

            if status is not None and 200 <= status < 300:
                self.counters.sent += len(batch)
                logger.debug("relay: batch of %d delivered (%s): %s", len(batch), status, text[:200])
                return
            if status in AUTH_FAILURES:
                logger.critical(
                    "relay: ingestion refused the relay key (%s), %d events dropped: check XPSHOP_RELAY_KEY "
                    "against the backend's relay key (%s)",
                    status,
                    len(batch),
                    text[:200],
                )
                self._give_up(batch)
                return
            if status is not None and status not in RETRYABLE and status < 500:
                if status in SPLITTABLE and len(batch) > 1:
                    # Refused as a whole (one event breaks a rule the relay does not check, or the body is
                    # too large): send it in halves, in order, so only the events refused on their own are
                    # lost. At most 2n - 1 requests for a batch of n.
                    logger.warning(
                        "relay: batch of %d refused (%s), sending it in halves: %s", len(batch), status, text[:200]
                    )
                    half = len(batch) // 2
                    await self._deliver(batch[:half])
                    await self._deliver(batch[half:])
                    return
                logger.error("relay: event refused (%s), dropped: %s %s", status, batch[0], text[:500])
                self._give_up(batch)
                return
            if attempt >= self.max_attempts and len(self._queue) + len(batch) >= self.max_queue:
                logger.error(
                    "relay: batch of %d dropped after %d attempts, queue full (last: %s)",
                    len(batch),
                    attempt,
                    status or text,
                )
                self._give_up(batch)
                return
            delay = self._backoff(attempt, retry_after)
            self.counters.retried += 1
            logger.warning(
                "relay: batch of %d not delivered (%s), attempt %d/%d, retrying in %.2fs",
                len(batch),
                status or text,
                attempt,
                self.max_attempts,
                delay,
            )
            await self._sleep(delay)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """`Retry-After` when the backend gave one (capped), else exponential backoff with jitter."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_backoff, self.base_backoff * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # "equal jitter": spread out, never near zero

    def _give_up(self, batch: list[Event]) -> None:
        self.counters.failed_batches += 1
        self.counters.dropped += len(batch)
