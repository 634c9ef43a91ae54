"""The Discord side of the relay: a gateway client that forwards chat-message metadata to the Forwarder."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from .events import Event, InvalidEvent, event_from_message
from .forwarder import MAX_BATCH, Forwarder

logger = logging.getLogger(__name__)

STATS_EVERY = 300.0  # seconds between two counter lines in the log


class Submitter(Protocol):
    def submit(self, event: Mapping[str, Any]) -> bool: ...


@dataclass(frozen=True)
class RelayConfig:
    token: str
    ingest_url: str
    relay_key: str
    max_batch: int = MAX_BATCH
    max_delay: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RelayConfig:
        """DISCORD_BOT_TOKEN, XPSHOP_INGEST_URL, XPSHOP_RELAY_KEY; optional RELAY_MAX_BATCH, RELAY_MAX_DELAY."""
        env = os.environ if environ is None else environ
        required = {
            name: env.get(name, "").strip() for name in ("DISCORD_BOT_TOKEN", "XPSHOP_INGEST_URL", "XPSHOP_RELAY_KEY")
        }
        missing = [name for name, value in required.items() if not value]
        if missing:
            raise ValueError(f"missing environment variables: {', '.join(missing)}")
        try:
            max_batch = int(env.get("RELAY_MAX_BATCH") or MAX_BATCH)
            max_delay = float(env.get("RELAY_MAX_DELAY") or 1.0)
        except ValueError as exc:
            raise ValueError(f"RELAY_MAX_BATCH must be an integer and RELAY_MAX_DELAY a number: {exc}") from None
        if not 1 <= max_batch <= MAX_BATCH:
            raise ValueError(f"RELAY_MAX_BATCH must be between 1 and {MAX_BATCH}, got {max_batch}")
        if not 0 <= max_delay <= 60:
            raise ValueError(f"RELAY_MAX_DELAY must be between 0 and 60 seconds, got {max_delay}")
        return cls(
            token=required["DISCORD_BOT_TOKEN"],
            ingest_url=required["XPSHOP_INGEST_URL"],
            relay_key=required["XPSHOP_RELAY_KEY"],
            max_batch=max_batch,
            max_delay=max_delay,
        )


def relay_intents() -> discord.Intents:
    """Guilds (roles and channels cache) and guild messages; nothing privileged.

    No message content intent is required: without it Discord still sends every guild message's metadata
    (id, channel, author, the author's role ids, created_at) and only blanks its content, which XP does not use.
    No members intent either: the message's own payload carries the author's roles.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
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

    def __init__(self, forwarder: Submitter, **options: Any) -> None:
        options.setdefault("intents", relay_intents())
        options.setdefault("member_cache_flags", discord.MemberCacheFlags.none())
        options.setdefault("chunk_guilds_at_startup", False)
        options.setdefault("max_messages", None)  # no message cache: nothing reads it
        super().__init__(**options)
        self.forwarder = forwarder

    async def on_ready(self) -> None:
        logger.info(
            "relay: connected as %s to %d guilds over %s shard(s)", self.user, len(self.guilds), self.shard_count
        )

    async def on_message(self, message: discord.Message) -> None:
        event = message_event(message)
        if event is not None:
            self.forwarder.submit(event)


async def _log_stats(forwarder: Forwarder, every: float = STATS_EVERY) -> None:
    while True:
        await asyncio.sleep(every)
        logger.info("relay: %s", forwarder.stats())


async def run(config: RelayConfig) -> None:
    """Run until SIGINT/SIGTERM or a fatal gateway error, then flush the queued events."""
    forwarder = Forwarder(config.ingest_url, config.relay_key, max_batch=config.max_batch, max_delay=config.max_delay)
    client = RelayClient(forwarder)
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
    stats = asyncio.create_task(_log_stats(forwarder))
    try:
        async with client:
            await client.start(config.token)
    finally:
        stats.cancel()
        await forwarder.stop()  # the gateway is closed: nothing more comes in, send the rest


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
