"""DiscordRest against FakeDiscord over real HTTP: headers, state changes, rate limits, retries, error mapping."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from urllib.parse import unquote

import pytest

from tests.support.fake_discord import FakeDiscord
from xpshop.discord.rest import DiscordError, DiscordRest, RateLimited, route_key

TOKEN = "bot-token"
GUILD, USER, ROLE = "111", "222", "333"
ROLE_PATH = f"/guilds/{GUILD}/members/{USER}/roles/{ROLE}"


class FakeTime:
    """Injected sleep + clock: records every wait and advances the clock by it, never really sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with FakeDiscord(token=TOKEN) as server:
        server.set_member(GUILD, USER, roles=["1"])
        yield server


@pytest.fixture
def ft() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(fake: FakeDiscord, ft: FakeTime) -> DiscordRest:
    return DiscordRest(TOKEN, fake.base_url, max_attempts=3, max_wait=10.0, sleep=ft.sleep, clock=ft.clock)


# -- headers and plain calls ---------------------------------------------------------------------------------


def test_headers_carry_bot_token_user_agent_and_quoted_audit_reason(fake: FakeDiscord, client: DiscordRest) -> None:
    reason = "Reached level 5 — shop reward/étoile"
    client.add_member_role(GUILD, USER, ROLE, reason=reason)
    client.create_message("42", {"content": "hi"})

    put, post = fake.calls
    assert put.method == "PUT" and put.path == ROLE_PATH and put.json is None
    assert put.headers["authorization"] == f"Bot {TOKEN}"
    assert put.headers["user-agent"].startswith("DiscordBot (")
    assert put.headers["x-audit-log-reason"].isascii()
    assert unquote(put.headers["x-audit-log-reason"]) == reason
    assert "content-type" not in put.headers
    assert post.headers["content-type"] == "application/json"
    assert "x-audit-log-reason" not in post.headers
    assert post.json == {"content": "hi"}


def test_no_token_sends_no_authorization(fake: FakeDiscord) -> None:
    client = DiscordRest(None, fake.base_url, max_attempts=1)
    with pytest.raises(DiscordError) as info:
        client.get_member(GUILD, USER)
    assert "authorization" not in fake.calls[0].headers
    assert (info.value.status, info.value.permanent) == (401, True)


def test_wrong_token_is_a_permanent_401(fake: FakeDiscord, ft: FakeTime) -> None:
    client = DiscordRest("nope", fake.base_url, sleep=ft.sleep, clock=ft.clock)
    with pytest.raises(DiscordError) as info:
        client.add_member_role(GUILD, USER, ROLE)
    assert (info.value.status, info.value.code, info.value.permanent) == (401, 0, True)
    assert len(fake.calls) == 1 and ft.waits == []


def test_role_add_and_remove_change_member_state(fake: FakeDiscord, client: DiscordRest) -> None:
    client.add_member_role(GUILD, USER, ROLE)
    assert fake.member_roles(GUILD, USER) == {"1", ROLE}
    client.remove_member_role(GUILD, USER, "1", reason="demoted")
    assert fake.member_roles(GUILD, USER) == {ROLE}
    assert [c.method for c in fake.calls_to(None, f"/guilds/{GUILD}/members/")] == ["PUT", "DELETE"]


def test_get_member_returns_member_or_none_on_404(fake: FakeDiscord, client: DiscordRest) -> None:
    fake.set_member(GUILD, "999", roles=[ROLE], joined_at="2024-05-01T10:00:00+00:00")
    member = client.get_member(GUILD, "999")
    assert member == {"user": {"id": "999"}, "roles": [ROLE], "joined_at": "2024-05-01T10:00:00+00:00"}
    assert client.get_member(GUILD, "404404") is None
    assert len(fake.calls_to("GET", f"/guilds/{GUILD}/members/404404")) == 1  # a 404 is not retried


def test_create_message_returns_and_stores_the_message(fake: FakeDiscord, client: DiscordRest) -> None:
    message = client.create_message(42, {"content": "Level up!", "allowed_mentions": {"parse": []}})
    assert message["channel_id"] == "42" and message["content"] == "Level up!" and message["id"].isdigit()
    assert fake.messages["42"] == [message]


def test_an_enforced_nonce_answers_the_earlier_message_as_discord_does(fake: FakeDiscord, client: DiscordRest) -> None:
    """Create Message: a nonce up to 25 characters; with enforce_nonce a nonce sent again answers the message it
    created, and creates none (the fake keeps the rule the effects' re-post relies on)."""
    first = client.create_message("5", {"content": "hi", "nonce": "n" * 25, "enforce_nonce": True})
    again = client.create_message("5", {"content": "hi", "nonce": "n" * 25, "enforce_nonce": True})
    assert again["id"] == first["id"] and len(fake.messages["5"]) == 1
    client.create_message("5", {"content": "hi", "nonce": "n" * 25})  # not enforced: a new message
    assert len(fake.messages["5"]) == 2
    with pytest.raises(DiscordError) as refused:
        client.create_message("5", {"content": "hi", "nonce": "n" * 26, "enforce_nonce": True})
    assert (refused.value.status, refused.value.code, refused.value.permanent) == (400, 50035, True)


def test_unknown_member_on_role_add_is_permanent_10007(fake: FakeDiscord, client: DiscordRest) -> None:
    with pytest.raises(DiscordError) as info:
        client.add_member_role(GUILD, "555", ROLE)
    assert (info.value.status, info.value.code, info.value.message) == (404, 10007, "Unknown Member")


# -- webhooks and commands -----------------------------------------------------------------------------------


def test_interaction_webhooks_carry_no_authorization(fake: FakeDiscord, client: DiscordRest) -> None:
    edited = client.edit_original_response("77", "tok-en_1", {"content": "working..."})
    client.edit_original_response("77", "tok-en_1", {"content": "done"})
    followup = client.create_followup("77", "tok-en_1", {"content": "more", "flags": 64})

    assert edited["content"] == "working..." and followup["flags"] == 64
    assert [c.method for c in fake.calls] == ["PATCH", "PATCH", "POST"]
    assert fake.calls[0].path == "/webhooks/77/tok-en_1/messages/@original"
    assert fake.calls[2].path == "/webhooks/77/tok-en_1"
    assert all("authorization" not in c.headers for c in fake.calls)
    assert fake.webhook_messages[("77", "tok-en_1")] == [
        {"content": "working..."},
        {"content": "done"},
        {"content": "more", "flags": 64},
    ]


def test_bulk_overwrite_commands_global_and_per_guild(fake: FakeDiscord, client: DiscordRest) -> None:
    commands = [{"name": "rank", "description": "Your level"}, {"name": "shop", "description": "Browse"}]
    global_result = client.bulk_overwrite_commands("77", commands)
    guild_result = client.bulk_overwrite_commands("77", commands[:1], guild_id=GUILD)

    assert [c["name"] for c in global_result] == ["rank", "shop"] and all(c["id"] for c in global_result)
    assert guild_result[0]["guild_id"] == GUILD
    assert [c.path for c in fake.calls] == ["/applications/77/commands", f"/applications/77/guilds/{GUILD}/commands"]
    assert fake.calls[0].json == commands
    assert set(fake.commands) == {("77", None), ("77", GUILD)}
    # Overwriting again keeps the ids of commands with the same name, as Discord does.
    again = client.bulk_overwrite_commands("77", commands)
    assert [c["id"] for c in again] == [c["id"] for c in global_result]


# -- rate limits ---------------------------------------------------------------------------------------------


def test_429_waits_retry_after_then_succeeds(fake: FakeDiscord, client: DiscordRest, ft: FakeTime) -> None:
    fake.rate_limit("PUT", r"/roles/", retry_after=0.05)
    client.add_member_role(GUILD, USER, ROLE)
    assert ft.waits == [0.05]
    assert len(fake.calls) == 2
    assert ROLE in fake.member_roles(GUILD, USER)


def test_429_falls_back_to_retry_after_header(fake: FakeDiscord, client: DiscordRest, ft: FakeTime) -> None:
    fake.rate_limit("PUT", r"/roles/", retry_after=0.05, in_body=False)  # header says ceil(0.05) = 1 s
    client.add_member_role(GUILD, USER, ROLE)
    assert ft.waits == [1.0]
    assert len(fake.calls) == 2


def test_global_429_waits_then_succeeds(fake: FakeDiscord, client: DiscordRest, ft: FakeTime) -> None:
    fake.rate_limit("POST", r"/messages", retry_after=0.2, global_=True)
    client.create_message("42", {"content": "x"})
    assert ft.waits == [0.2]
    assert len(fake.calls) == 2


def test_global_429_blocks_every_route(fake: FakeDiscord, client: DiscordRest, ft: FakeTime) -> None:
    fake.rate_limit("POST", r"/messages", retry_after=30, global_=True)
    with pytest.raises(RateLimited) as info:
        client.create_message("42", {"content": "x"})
    assert info.value.is_global and info.value.retry_after == 30
    # Another route, before the global reset: refused locally without asking Discord.
    with pytest.raises(RateLimited) as other:
        client.add_member_role(GUILD, USER, ROLE)
    assert other.value.is_global and other.value.retry_after == pytest.approx(30)
    assert len(fake.calls) == 1 and ft.waits == []
    ft.now += 30  # after the reset everything flows again
    client.add_member_role(GUILD, USER, ROLE)
    assert len(fake.calls) == 2


def test_429_longer_than_max_wait_raises_rate_limited(fake: FakeDiscord, client: DiscordRest, ft: FakeTime) -> None:
    fake.rate_limit("PUT", r"/roles/", retry_after=25.0)
    with pytest.raises(RateLimited) as info:
        client.add_member_role(GUILD, USER, ROLE)
    error = info.value
    assert (error.status, error.retry_after, error.permanent, error.is_global) == (429, 25.0, False, False)
    assert ft.waits == [] and len(fake.calls) == 1
    # The bucket stays blocked: the next call on it raises without another 429.
    with pytest.raises(RateLimited):
        client.add_member_role(GUILD, USER, "444")
    assert len(fake.calls) == 1


def test_429_every_time_gives_up_after_max_attempts(fake: FakeDiscord, client: DiscordRest, ft: FakeTime) -> None:
    fake.rate_limit("PUT", r"/roles/", times=10, retry_after=0.05)
    with pytest.raises(RateLimited):
        client.add_member_role(GUILD, USER, ROLE)
    assert len(fake.calls) == 3 and ft.waits == [0.05, 0.05]


def test_exhausted_bucket_waits_for_reset_before_the_next_call(
    fake: FakeDiscord, client: DiscordRest, ft: FakeTime
) -> None:
    fake.bucket_remaining, fake.bucket_reset_after = 0, 0.25
    fake.set_member("900", USER)
    client.add_member_role(GUILD, USER, ROLE)  # learns: bucket exhausted, resets in 0.25 s
    client.add_member_role("900", USER, ROLE)  # same bucket hash, other guild: its own limit, no wait
    assert ft.waits == []
    client.add_member_role(GUILD, USER, "444")  # same route on the first guild: wait for the reset first
    assert ft.waits == [0.25]
    assert len(fake.calls) == 3  # never triggered a 429
    ft.now += 5  # reset long past: no wait
    client.add_member_role(GUILD, USER, "445")
    assert ft.waits == [0.25]


def test_bucket_with_remaining_calls_does_not_wait(fake: FakeDiscord, client: DiscordRest, ft: FakeTime) -> None:
    for role in ("10", "11", "12"):
        client.add_member_role(GUILD, USER, role)
    assert ft.waits == []


# -- errors and retries --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("break_role", "status", "code", "message"),
    [
        ("forbid_role", 403, 50013, "Missing Permissions"),
        ("delete_role", 404, 10011, "Unknown Role"),
    ],
)
@pytest.mark.parametrize("remove", [False, True])
def test_4xx_is_permanent_and_not_retried(
    fake: FakeDiscord,
    client: DiscordRest,
    ft: FakeTime,
    break_role: str,
    status: int,
    code: int,
    message: str,
    remove: bool,
) -> None:
    getattr(fake, break_role)(GUILD, ROLE)
    call = client.remove_member_role if remove else client.add_member_role
    with pytest.raises(DiscordError) as info:
        call(GUILD, USER, ROLE)
    error = info.value
    assert not isinstance(error, RateLimited)
    assert (error.status, error.code, error.message, error.permanent) == (status, code, message, True)
    assert len(fake.calls) == 1 and ft.waits == []


def test_500_twice_then_success(fake: FakeDiscord, client: DiscordRest, ft: FakeTime) -> None:
    fake.fail("PUT", r"/roles/", 500, times=2)
    client.add_member_role(GUILD, USER, ROLE)
    assert ft.waits == [0.5, 1.0]
    assert len(fake.calls) == 3 and ROLE in fake.member_roles(GUILD, USER)


def test_500_forever_is_a_transient_error_after_max_attempts(fake: FakeDiscord, ft: FakeTime) -> None:
    client = DiscordRest(TOKEN, fake.base_url, max_attempts=4, sleep=ft.sleep, clock=ft.clock)
    fake.fail("POST", r"/messages", 502, code=0, message="Bad Gateway", times=100)
    with pytest.raises(DiscordError) as info:
        client.create_message("42", {"content": "x"})
    assert (info.value.status, info.value.message, info.value.permanent) == (502, "Bad Gateway", False)
    assert len(fake.calls) == 4 and ft.waits == [0.5, 1.0, 2.0]


def test_connection_errors_are_retried_then_transient(ft: FakeTime) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = DiscordRest(TOKEN, f"http://127.0.0.1:{port}/api/v10", max_attempts=3, sleep=ft.sleep, clock=ft.clock)
    with pytest.raises(DiscordError) as info:
        client.get_member(GUILD, USER)
    assert (info.value.status, info.value.permanent) == (0, False)
    assert ft.waits == [0.5, 1.0]


# -- construction, routes, threads ---------------------------------------------------------------------------


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "")
    monkeypatch.delenv("DISCORD_API_BASE_URL", raising=False)
    client = DiscordRest.from_env()
    assert client.token is None and client.base_url == "https://discord.com/api/v10"
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "abc")
    monkeypatch.setenv("DISCORD_API_BASE_URL", "http://127.0.0.1:9/api/v10/")
    client = DiscordRest.from_env()
    assert client.token == "abc" and client.base_url == "http://127.0.0.1:9/api/v10"


@pytest.mark.parametrize(
    ("method", "path", "route", "major"),
    [
        ("put", "/guilds/1/members/2/roles/3", "PUT /guilds/1/members/{id}/roles/{id}", "guilds/1"),
        ("GET", "/guilds/1/members/2?x=1", "GET /guilds/1/members/{id}", "guilds/1"),
        ("POST", "/channels/9/messages", "POST /channels/9/messages", "channels/9"),
        ("PATCH", "/webhooks/7/tok/messages/@original", "PATCH /webhooks/7/tok/messages/@original", "webhooks/7/tok"),
        ("PUT", "/applications/7/guilds/1/commands", "PUT /applications/{id}/guilds/1/commands", "guilds/1"),
    ],
)
def test_route_key_keeps_only_major_parameters(method: str, path: str, route: str, major: str) -> None:
    assert route_key(method, path) == (route, major)


def test_one_client_from_several_threads(fake: FakeDiscord) -> None:
    client = DiscordRest(TOKEN, fake.base_url)
    roles = [str(500 + i) for i in range(12)]
    errors: list[BaseException] = []

    def add(role: str) -> None:
        try:
            client.add_member_role(GUILD, USER, role)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(role,)) for role in roles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == []
    assert fake.member_roles(GUILD, USER) == {"1", *roles}
