"""The Discord side of the relay: a gateway client that forwards chat-message metadata to the Forwarder, and,
when member events are on, members leaving and being banned to a second Forwarder (reset on leave or ban)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from .events import Event, InvalidEvent, event_from_member, event_from_message
from .forwarder import DEFAULT_MAX_DELAY, MAX_BATCH, Forwarder
from .hold import MAX_WINDOW

logger = logging.getLogger(__name__)

STATS_EVERY = 300.0  # seconds between two counter lines in the log
SHUTDOWN_SECONDS = 60.0  # to send what is queued on SIGTERM, both queues together (the backend may be down)


class Submitter(Protocol):
    def submit(self, event: Mapping[str, Any]) -> bool: ...

    def flush(self, member: tuple[str, str] | None = None) -> None: ...


@dataclass(frozen=True)
class RelayConfig:
    token: str
    ingest_url: str
    relay_key: str
    max_batch: int = MAX_BATCH
    max_delay: float = DEFAULT_MAX_DELAY  # the batching window: see forwarder.DEFAULT_MAX_DELAY
    # Hold each member's messages together this long before queueing them (relay/hold.py): 0 = off.
    member_window: float = 0.0
    # Member events (reset on leave or ban): off unless RELAY_MEMBER_EVENTS=1, since they need the
    # privileged Server Members intent, enabled for the bot in the developer portal.
    members_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RelayConfig:
        """DISCORD_BOT_TOKEN, XPSHOP_INGEST_URL, XPSHOP_RELAY_KEY; optional RELAY_MAX_BATCH, RELAY_MAX_DELAY
        (default 5 s), RELAY_MEMBER_WINDOW (seconds a member's messages are held together, default 0: off),
        RELAY_MEMBER_EVENTS (1: forward leaves and bans) with XPSHOP_MEMBERS_INGEST_URL
        (default: the ingestion URL with /messages replaced by /members)."""
        env = os.environ if environ is None else environ
        required = {
            name: env.get(name, "").strip() for name in ("DISCORD_BOT_TOKEN", "XPSHOP_INGEST_URL", "XPSHOP_RELAY_KEY")
        }
        missing = [name for name, value in required.items() if not value]
        if missing:
            raise ValueError(f"missing environment variables: {', '.join(missing)}")
        try:
            max_batch = int(env.get("RELAY_MAX_BATCH") or MAX_BATCH)
            max_delay = float(env.get("RELAY_MAX_DELAY") or DEFAULT_MAX_DELAY)
        except ValueError as exc:
            raise ValueError(f"RELAY_MAX_BATCH must be an integer and RELAY_MAX_DELAY a number: {exc}") from None
        try:
            member_window = float(env.get("RELAY_MEMBER_WINDOW") or 0)
        except ValueError as exc:
            raise ValueError(f"RELAY_MEMBER_WINDOW must be a number of seconds: {exc}") from None
        if not 1 <= max_batch <= MAX_BATCH:
            raise ValueError(f"RELAY_MAX_BATCH must be between 1 and {MAX_BATCH}, got {max_batch}")
        if not 0 <= max_delay <= 60:
            raise ValueError(f"RELAY_MAX_DELAY must be between 0 and 60 seconds, got {max_delay}")
        if not 0 <= member_window <= MAX_WINDOW:  # also refuses nan and inf
            raise ValueError(f"RELAY_MEMBER_WINDOW must be between 0 and {MAX_WINDOW:g} seconds, got {member_window}")
        _check_url("XPSHOP_INGEST_URL", required["XPSHOP_INGEST_URL"])
        members_url = None
        switch = env.get("RELAY_MEMBER_EVENTS", "").strip().lower()
        if switch not in _ON | _OFF:
            raise ValueError(f"RELAY_MEMBER_EVENTS must be 1 or 0 (true/false, yes/no, on/off), got {switch!r}")
        if switch in _ON:
            members_url = env.get("XPSHOP_MEMBERS_INGEST_URL", "").strip() or members_url_for(
                required["XPSHOP_INGEST_URL"]
            )
            _check_url("XPSHOP_MEMBERS_INGEST_URL", members_url)
        return cls(
            token=required["DISCORD_BOT_TOKEN"],
            ingest_url=required["XPSHOP_INGEST_URL"],
            relay_key=required["XPSHOP_RELAY_KEY"],
            max_batch=max_batch,
            max_delay=max_delay,
            member_window=member_window,
            members_url=members_url,
        )


_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"", "0", "false", "no", "off"})


def _check_url(name: str, url: str) -> None:
    """An absolute http(s) URL with a host: anything else would fail every batch (retried, then dropped)
    while the relay looks healthy, so it is refused at start."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an absolute http(s) URL (https://host/path), got {url!r}")


def members_url_for(ingest_url: str) -> str:
    """The member events' endpoint beside the messages' one."""
    base = ingest_url.rstrip("/")
    if not base.endswith("/messages"):
        raise ValueError("set XPSHOP_MEMBERS_INGEST_URL: XPSHOP_INGEST_URL does not end with /messages")
    return base.removesuffix("/messages") + "/members"


def relay_intents(member_events: bool = False) -> discord.Intents:
    """Guilds (roles and channels cache) and guild messages; nothing privileged unless `member_events`.

    No message content intent is required: without it Discord still sends every guild message's metadata
    (id, channel, author, the author's role ids, created_at) and only blanks its content, which XP does not use.
    No members intent either: the message's own payload carries the author's roles. With `member_events`
    (reset on leave or ban): Server Members (privileged: member-remove) and moderation (bans).
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    if member_events:
        intents.members = True
        intents.moderation = True
    return intents


def message_event(message: discord.Message) -> Event | None:
    """The ingestion event of a guild chat message by a human; None for what earns no XP (DMs, bots, system)."""
    guild = message.guild
    if guild is None:  # a DM
        return None
    author = message.author
    # Bots and webhooks are skipped here to save the traffic (the backend skips bots as well).
    if author.bot or message.webhook_id is not None:
        return None
    if message.is_system():  # joins, boosts, pins...: not chat
        return None
    # A Member carries roles (the gateway sends them with the message); a plain User (the author left) has none.
    # Member.roles includes @everyone, whose id is the guild's id: it says nothing, so it is left out.
    roles = getattr(author, "roles", None) or []
    try:
        return event_from_message(
            message_id=message.id,
            guild_id=guild.id,
            channel_id=_rule_channel_id(message.channel),
            user_id=author.id,
            role_ids=[role.id for role in roles if role.id != guild.id],
            timestamp=message.created_at,
            bot=False,
            display=author_display(author),
        )
    except InvalidEvent as exc:
        logger.warning("relay: message %s not forwarded: %s", message.id, exc)
        return None


def author_display(author: Any) -> dict[str, Any]:
    """How the author is shown: `display_name` (a Member's is the server nickname, else the global display
    name, else the username), the username, and the user's own avatar hash (None: they have none). The
    gateway sends these with every message; nothing privileged is needed."""
    found: dict[str, Any] = {}
    for field, attribute in (("displayName", "display_name"), ("username", "name")):
        value = getattr(author, attribute, None)
        if isinstance(value, str):
            found[field] = value
    if hasattr(author, "avatar"):
        avatar = author.avatar
        if avatar is None:
            found["avatar"] = None
        elif isinstance(getattr(avatar, "key", None), str):
            found["avatar"] = avatar.key
    return found


def member_event(kind: str, guild_id: int, user: Any, at_ms: int | None = None) -> Event | None:
    """The ingestion event of a member leaving (`leave`: Discord's member-remove, which a kick and a ban also
    send) or being banned (`ban`); None for a bot. The backend decides from the guild's `resetOn` what it
    does: under "leaveOrBan" a ban and its member-remove reset once (the second finds 0 XP)."""
    if getattr(user, "bot", False):
        return None
    try:
        return event_from_member(
            kind=kind, guild_id=guild_id, user_id=user.id, at=at_ms if at_ms is not None else int(time.time() * 1000)
        )
    except InvalidEvent as exc:
        logger.warning("relay: %s of %s not forwarded: %s", kind, getattr(user, "id", "?"), exc)
        return None


def _rule_channel_id(channel: Any) -> int:
    """The channel no-XP rules apply to: a thread's parent (threads are created on the fly, so admins list the
    parent channel), else the channel itself."""
    parent_id = getattr(channel, "parent_id", None) if isinstance(channel, discord.Thread) else None
    return int(parent_id or channel.id)


class RelayClient(discord.AutoShardedClient):
    """A gateway client that only reads message metadata and hands it to the forwarder.

    AutoShardedClient asks Discord for the recommended shard count (one shard below 2,500 guilds,
    several above, all in this process).
    """

    def __init__(self, forwarder: Submitter, members: Submitter | None = None, **options: Any) -> None:
        options.setdefault("intents", relay_intents(member_events=members is not None))
        options.setdefault("member_cache_flags", discord.MemberCacheFlags.none())
        options.setdefault("chunk_guilds_at_startup", False)
        options.setdefault("max_messages", None)  # no message cache: nothing reads it
        super().__init__(**options)
        self.forwarder = forwarder
        self.members = members

    async def on_ready(self) -> None:
        logger.info(
            "relay: connected as %s to %d guilds over %s shard(s)", self.user, len(self.guilds), self.shard_count
        )

    async def on_message(self, message: discord.Message) -> None:
        event = message_event(message)
        if event is not None:
            self.forwarder.submit(event)

    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """A member left, was kicked or was banned (raw: works without the member cache)."""
        self._submit_member("leave", payload.guild_id, payload.user)

    async def on_member_ban(self, guild: discord.Guild, user: discord.User | discord.Member) -> None:
        self._submit_member("ban", guild.id, user)

    def _submit_member(self, kind: str, guild_id: int, user: Any) -> None:
        if self.members is None:
            return
        event = member_event(kind, guild_id, user)
        if event is not None:
            # The member's last messages may still wait in the messages' window (or the member window): send
            # them now, so they are queued before the leave, which waits its own window (unless that batch is
            # already due, or the messages' request is retried): a reset is then not followed by XP for
            # messages written before it. Other members' held messages stay held.
            self.forwarder.flush((str(event["guildId"]), str(event["userId"])))
            self.members.submit(event)


async def _log_stats(forwarders: Mapping[str, Forwarder], every: float = STATS_EVERY) -> None:
    """Every `every` seconds, one counter line per queue ("messages", and "members" when member events are on)."""
    while True:
        await asyncio.sleep(every)
        for name, forwarder in forwarders.items():
            logger.info("relay: %s %s", name, forwarder.stats())


def forwarders(config: RelayConfig) -> tuple[Forwarder, Forwarder | None]:
    """The messages' forwarder and, when member events are on, the members' one: the same batch size and
    window (RELAY_MAX_BATCH, RELAY_MAX_DELAY) for both; only messages are held per member (RELAY_MEMBER_WINDOW)."""
    batch, delay = config.max_batch, config.max_delay
    messages = Forwarder(
        config.ingest_url, config.relay_key, max_batch=batch, max_delay=delay, member_window=config.member_window
    )
    if not config.members_url:
        return messages, None
    return messages, Forwarder.for_members(config.members_url, config.relay_key, max_batch=batch, max_delay=delay)


async def run(config: RelayConfig) -> None:
    """Run until SIGINT/SIGTERM or a fatal gateway error, then flush the queued events."""
    forwarder, members = forwarders(config)
    client = RelayClient(forwarder, members)
    closing: set[asyncio.Task[None]] = set()

    def shutdown(signame: str) -> None:
        logger.info("relay: %s received, closing the gateway connection and flushing", signame)
        task = asyncio.create_task(client.close())
        closing.add(task)
        task.add_done_callback(closing.discard)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows has no add_signal_handler
            loop.add_signal_handler(sig, shutdown, sig.name)

    await forwarder.start()
    if members is not None:
        await members.start()
    queues = {"messages": forwarder, **({"members": members} if members is not None else {})}
    stats = asyncio.create_task(_log_stats(queues))
    try:
        async with client:
            await client.start(config.token)
    finally:
        stats.cancel()
        # The gateway is closed: nothing more comes in, send the rest. Messages first (a member's last
        # messages before its leave), both queues within one shutdown budget, not one each.
        deadline = loop.time() + SHUTDOWN_SECONDS
        await forwarder.stop(SHUTDOWN_SECONDS)
        if members is not None:
            await members.stop(deadline - loop.time())


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = RelayConfig.from_env()
    except ValueError as exc:
        logger.error("relay: %s", exc)
        return 2
    try:
        asyncio.run(run(config))
    except discord.LoginFailure:
        logger.error("relay: Discord refused DISCORD_BOT_TOKEN")
        return 1
    except discord.PrivilegedIntentsRequired as exc:
        logger.error("relay: %s", exc)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
