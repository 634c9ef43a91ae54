"""Structured request logs (issue 16, part 7): every API request logs one line with its route, guild,
caller, outcome and duration, and no key, secret or token ever reaches a log line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from tests.conftest import ADMIN_KEY
from tests.support.storage import new_guild_id

RELAY_KEY = "test-relay-key-for-logs"
BOT_TOKEN = "test-bot-token-for-logs"


class _Collect(logging.Handler):
    """Every record of the `xpshop` loggers, formatted as Powertools writes it (the function's formatter)."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        self._formatter = formatter

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self._formatter.format(record) if self._formatter else record.getMessage())
        # every attribute a record carries (extras included), whatever the formatter keeps
        self.lines.append(json.dumps({k: str(v) for k, v in vars(record).items()}))


@pytest.fixture
def logs(api_moto, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Collect]:
    monkeypatch.setenv("XPSHOP_RELAY_KEY", RELAY_KEY)
    monkeypatch.setenv("DISCORD_BOT_TOKEN", BOT_TOKEN)
    api_moto.get("/api/xp/health")  # loads the functions (their Logger sets up the `xpshop` logger)
    root = logging.getLogger("xpshop")
    existing = next((h.formatter for h in root.handlers if h.formatter is not None), None)
    collect = _Collect(existing)
    # the session logs at WARNING (conftest); each Powertools logger, children included, holds its level
    loggers = [root] + [
        found
        for name, found in logging.root.manager.loggerDict.items()
        if name.startswith("xpshop.") and isinstance(found, logging.Logger)
    ]
    levels = [found.level for found in loggers]
    root.addHandler(collect)
    for found in loggers:
        found.setLevel(logging.INFO)
    try:
        yield collect
    finally:
        root.removeHandler(collect)
        for found, level in zip(loggers, levels, strict=True):
            found.setLevel(level)


def _request_lines(logs: _Collect) -> list[logging.LogRecord]:
    return [r for r in logs.records if r.getMessage() == "request"]


def test_each_request_logs_one_line_with_route_guild_caller_outcome_and_duration(api_moto, logs):
    guild = new_guild_id()
    assert api_moto.put(f"/api/xp/guilds/{guild}", {"name": "Logs"}).status == 201
    assert api_moto.get(f"/api/xp/users/{guild}/234567890123456789").status == 404
    lines = _request_lines(logs)
    assert len(lines) == 2
    first, second = (vars(r) for r in lines)
    assert first["route"] == "PUT /api/xp/guilds/{guildId}"
    assert first["guildId"] == guild and first["status"] == 201 and first["caller"] == "admin"
    assert isinstance(first["durationMs"], float) and first["durationMs"] >= 0
    assert second["route"] == "GET /api/xp/users/{guildId}/{userId}"
    assert second["status"] == 404 and second["errorCode"] == "USER_NOT_FOUND"


def test_an_api_key_is_logged_by_its_id_only(api_moto, logs):
    guild = new_guild_id()
    assert api_moto.put(f"/api/xp/guilds/{guild}").status == 201
    made = api_moto.post("/api/keys", {"name": "logs", "scopes": ["xp:read"], "guildIds": [guild]}).data
    assert api_moto.get(f"/api/xp/users/{guild}", key=made["key"]).status == 200
    assert api_moto.post(f"/api/xp/users/{guild}/234567890123456789", {"amount": 5}, key=made["key"]).status == 403
    keyed = [vars(r) for r in _request_lines(logs) if r.__dict__.get("caller") == f"key:{made['id']}"]
    assert [(r["status"], r.get("errorCode")) for r in keyed] == [(200, None), (403, "FORBIDDEN")]


def test_no_key_secret_or_token_is_ever_logged(api_moto, logs):
    guild = new_guild_id()
    assert api_moto.put(f"/api/xp/guilds/{guild}").status == 201
    made = api_moto.post("/api/keys", {"name": "secret", "scopes": ["xp:read"], "guildIds": ["*"]}).data
    secret = made["key"]
    api_moto.get(f"/api/xp/users/{guild}", key=secret)
    api_moto.get(f"/api/xp/users/{guild}", key=secret + "x")  # an altered key: 401
    api_moto.get(f"/api/xp/users/{guild}", key=ADMIN_KEY + "x")
    api_moto.post("/api/xp/ingest/messages", {"messages": []}, key=RELAY_KEY)
    api_moto.post("/api/xp/ingest/messages", {"messages": []}, key=RELAY_KEY + "x")
    issued = api_moto.post("/api/v1/keys", {"id": "234567890123456789"})
    user_key = issued.body.get("key") if isinstance(issued.body, dict) else None
    if user_key:
        api_moto.get("/api/v1/users/info?id=234567890123456789", key=user_key)
    assert len(_request_lines(logs)) >= 8
    text = "\n".join(logs.lines)
    for value in (ADMIN_KEY, secret, secret.rsplit("_", 1)[1], RELAY_KEY, BOT_TOKEN, *([user_key] if user_key else [])):
        assert value not in text


def test_the_web_board_and_cards_log_their_requests_too(api_moto, logs):
    guild = new_guild_id()
    assert api_moto.put(f"/api/xp/guilds/{guild}").status == 201
    assert api_moto.get(f"/leaderboard/{guild}").status == 404  # private by default
    assert api_moto.get(f"/cards/{guild}/234567890123456789.png").status == 404
    lines = {vars(r)["route"]: vars(r) for r in _request_lines(logs)}
    board, card = lines["GET /leaderboard/{guildId}"], lines["GET /cards/{guildId}/{card}"]
    assert (board["status"], board["caller"], board["guildId"]) == (404, "anonymous", guild)
    assert (card["status"], card["caller"], card["guildId"]) == (404, "anonymous", guild)


def test_a_discord_interaction_logs_its_command_not_its_token(api_moto, discord_app, caplog):
    import logging as logging_

    from tests.support import discord as d

    guild = new_guild_id()
    payload = d.command(guild, "234567890123456789", "xp", "config", "show")
    d.webhook()  # loaded first: its import sets the logger's level from the environment
    with caplog.at_level(logging_.INFO, logger="discord_interactions"):
        status, _ = d.call(discord_app.signer, payload)
        bad_status, _ = d.call(d.Signer(), payload)  # another key's signature
    assert (status, bad_status) == (200, 401)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith('{"message": "request"')]
    assert [(line["status"], line["caller"]) for line in lines] == [(200, "discord"), (401, "none")]
    assert (lines[0]["command"], lines[0]["guildId"], lines[0]["interactionType"]) == ("xp config show", guild, 2)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert payload["token"] not in text and "234567890123456789" not in text
