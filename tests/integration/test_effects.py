"""Level-up effects on DynamoDB Local's real stream, against the fake Discord: role rewards (stack, replace,
loss), rate limits and refusals, announcements and credits, from every path that changes a level."""

from __future__ import annotations

import pytest

from tests.support.storage import new_user_id

ROLE_1, ROLE_2, ROLE_5 = "610000000000000001", "610000000000000002", "610000000000000005"
OTHER_ROLE = "619999999999999999"
CHANNEL = "310000000000000077"
LEVEL_XP = {0: 0, 1: 155, 2: 375, 3: 670, 5: 1525}  # cumulative XP at the start of a level (default curve)


@pytest.fixture
def rewarded(api, guild, discord_app):
    """A guild with rewards at levels 1, 2 and 5 (stack mode by default)."""
    rewards = [{"level": 1, "roleId": ROLE_1}, {"level": 2, "roleId": ROLE_2}, {"level": 5, "roleId": ROLE_5}]
    _configure(api, guild, {"roleRewards": rewards})
    return guild


def _configure(api, guild: str, patch: dict) -> None:
    assert api.put(f"/api/xp/config/{guild}", patch).status == 200
    from xpshop.service import curves

    curves.forget(guild)


def _member(discord_app, guild: str, roles: tuple[str, ...] = ()) -> str:
    user = new_user_id()
    discord_app.fake.set_member(guild, user, roles=list(roles))
    return user


def _set_xp(api, guild: str, user: str, xp: int) -> None:
    assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200


def test_stack_mode_gives_every_reward_up_to_the_level(api, rewarded, discord_app, table_stream):
    user = _member(discord_app, rewarded, (OTHER_ROLE,))
    _set_xp(api, rewarded, user, LEVEL_XP[2])
    table_stream.drain()
    assert discord_app.fake.member_roles(rewarded, user) == {OTHER_ROLE, ROLE_1, ROLE_2}
    puts = discord_app.fake.calls_to("PUT", f"/guilds/{rewarded}/members/{user}/roles/")
    assert puts[0].headers["x-audit-log-reason"] == "xpshop%3A%20level%202"


def test_replace_mode_keeps_only_the_highest_reward(api, rewarded, discord_app, table_stream):
    _configure(api, rewarded, {"rewardsMode": "replace"})
    user = _member(discord_app, rewarded, (OTHER_ROLE,))
    _set_xp(api, rewarded, user, LEVEL_XP[1])
    table_stream.drain()
    assert discord_app.fake.member_roles(rewarded, user) == {OTHER_ROLE, ROLE_1}
    _set_xp(api, rewarded, user, LEVEL_XP[5] + 10)
    table_stream.drain()
    assert discord_app.fake.member_roles(rewarded, user) == {OTHER_ROLE, ROLE_5}


def test_roles_stay_on_loss_unless_configured(api, rewarded, discord_app, table_stream):
    user = _member(discord_app, rewarded)
    _set_xp(api, rewarded, user, LEVEL_XP[2])
    table_stream.drain()
    _set_xp(api, rewarded, user, LEVEL_XP[1])
    table_stream.drain()
    assert discord_app.fake.member_roles(rewarded, user) == {ROLE_1, ROLE_2}  # removeRewardOnXpLoss is off

    _configure(api, rewarded, {"removeRewardOnXpLoss": True})
    _set_xp(api, rewarded, user, LEVEL_XP[2])
    table_stream.drain()
    assert api.delete(f"/api/xp/users/{rewarded}/{user}", {"amount": 300}).status == 200  # back to level 0
    table_stream.drain()
    assert discord_app.fake.member_roles(rewarded, user) == set()


def test_duplicate_role_ids_count_at_their_highest_level(api, guild, discord_app, table_stream):
    _configure(api, guild, {"roleRewards": [{"level": 1, "roleId": ROLE_1}, {"level": 3, "roleId": ROLE_1}]})
    user = _member(discord_app, guild)
    _set_xp(api, guild, user, LEVEL_XP[2])
    table_stream.drain()
    assert discord_app.fake.member_roles(guild, user) == set()  # ROLE_1 is the level 3 reward
    _set_xp(api, guild, user, LEVEL_XP[3])
    table_stream.drain()
    assert discord_app.fake.member_roles(guild, user) == {ROLE_1}


def test_held_roles_are_not_granted_again(api, rewarded, discord_app, table_stream):
    user = _member(discord_app, rewarded, (ROLE_1,))
    _set_xp(api, rewarded, user, LEVEL_XP[2])
    table_stream.drain()
    puts = discord_app.fake.calls_to("PUT", f"/guilds/{rewarded}/members/{user}/roles/")
    assert [c.path.rsplit("/", 1)[-1] for c in puts] == [ROLE_2]


def test_a_rate_limited_grant_is_retried_then_succeeds(api, rewarded, discord_app, table_stream):
    user = _member(discord_app, rewarded)
    discord_app.fake.rate_limit("PUT", rf"/guilds/{rewarded}/members/{user}/roles/.*", times=1, retry_after=0.05)
    _set_xp(api, rewarded, user, LEVEL_XP[1])
    table_stream.drain()
    assert discord_app.fake.member_roles(rewarded, user) == {ROLE_1}
    assert len(discord_app.fake.calls_to("PUT", f"/guilds/{rewarded}/members/{user}/roles/")) == 2


def test_a_long_rate_limit_fails_the_record_and_the_stream_retries_it(api, rewarded, discord_app, table_stream):
    user = _member(discord_app, rewarded)
    # Longer than the client waits in-process: the record fails, the event source retries it later.
    discord_app.fake.rate_limit("PUT", rf"/guilds/{rewarded}/members/{user}/roles/.*", times=1, retry_after=60)
    _set_xp(api, rewarded, user, LEVEL_XP[1])
    from local import stream

    waits: list[float] = []
    table_stream_sleep = stream.time.sleep
    stream.time.sleep = waits.append  # the poller's pause between retries
    try:
        table_stream.drain()
    finally:
        stream.time.sleep = table_stream_sleep
    assert waits  # at least one retry of the failed record
    assert discord_app.fake.member_roles(rewarded, user) == {ROLE_1}


def test_refused_roles_are_skipped_not_retried(api, rewarded, discord_app, table_stream):
    user = _member(discord_app, rewarded)
    discord_app.fake.forbid_role(rewarded, ROLE_1)
    discord_app.fake.delete_role(rewarded, ROLE_2)
    _set_xp(api, rewarded, user, LEVEL_XP[5])
    table_stream.drain()
    assert discord_app.fake.member_roles(rewarded, user) == {ROLE_5}
    for role in (ROLE_1, ROLE_2):  # one try each: a missing permission or a deleted role is not retried
        assert len(discord_app.fake.calls_to("PUT", f"/guilds/{rewarded}/members/{user}/roles/{role}")) == 1


def test_a_member_who_left_is_skipped(api, rewarded, discord_app, table_stream):
    user = new_user_id()  # not in the fake guild
    _set_xp(api, rewarded, user, LEVEL_XP[2])
    table_stream.drain()
    assert not discord_app.fake.calls_to("PUT", f"/guilds/{rewarded}/members/{user}/roles/")


def test_announcement_once_per_level_with_the_template(api, guild, discord_app, table_stream):
    _configure(api, guild, {"levelUpAnnouncement": {"channelId": CHANNEL, "message": "{user} hit {level} ({xp} XP)"}})
    user = _member(discord_app, guild)
    _set_xp(api, guild, user, 1600)
    table_stream.drain()
    posted = discord_app.fake.messages[CHANNEL]
    assert [m["content"] for m in posted] == [f"<@{user}> hit 5 (1,600 XP)"]
    assert posted[0]["allowed_mentions"] == {"users": [user]}
    # the same level reached again (lost and regained) is not announced twice
    _set_xp(api, guild, user, 10)
    table_stream.drain()
    _set_xp(api, guild, user, 1600)
    table_stream.drain()
    assert len(discord_app.fake.messages[CHANNEL]) == 1


def test_announcements_are_off_by_default(api, guild, discord_app, table_stream):
    user = _member(discord_app, guild)
    _set_xp(api, guild, user, 1600)
    table_stream.drain()
    assert not discord_app.fake.calls_to("POST", "/channels/")


def _earn(api, discord_app, guild: str, user: str, xp: int) -> None:
    """`xp` earned by `user` (Give XP on one of their messages): only earned levels pay credits (granted XP,
    as in _set_xp, never does: tests/security/test_money.py)."""
    from tests.support import discord as d

    _configure(api, guild, {"giveXpAmount": xp})
    _, answer = d.call(discord_app.signer, d.message_command(guild, new_user_id(), d.next_snowflake(), user))
    assert "earned" in answer["data"]["embeds"][0]["description"], answer


def test_credits_per_level_are_paid_once_per_level(api, guild, discord_app, table_stream, monkeypatch):
    monkeypatch.setenv("SHOP_GUILD_IDS", f"111111111111111111,{guild}")
    _configure(api, guild, {"creditsPerLevel": 10})
    user = _member(discord_app, guild)
    _earn(api, discord_app, guild, user, LEVEL_XP[3])
    table_stream.drain()
    assert _credits(api, user) == 30
    _set_xp(api, guild, user, 0)
    table_stream.drain()
    _earn(api, discord_app, guild, user, LEVEL_XP[5])
    table_stream.drain()
    assert _credits(api, user) == 50  # levels 4 and 5 only: 1-3 were paid already
    ledger = api.get(f"/api/v1/users/transactions?id={user}").body["transactions"]
    paid = [(e["guildId"], e["level"], e["amount"]) for e in ledger if e["type"] == "level_reward"]
    assert sorted(paid) == [(guild, 3, 30), (guild, 5, 20)]  # one transaction per level-up, levels never twice


def test_a_huge_level_jump_pays_in_one_transaction(api, guild, discord_app, table_stream, monkeypatch):
    from tests.support.storage import recorded_calls

    monkeypatch.setenv("SHOP_GUILD_IDS", guild)
    _configure(api, guild, {"creditsPerLevel": 2})
    user = _member(discord_app, guild)
    _earn(api, discord_app, guild, user, 100_000)  # level 0 -> 38
    with recorded_calls() as calls:
        table_stream.drain()
    assert calls["TransactWriteItems"] == 1
    level = api.get(f"/api/xp/users/{guild}/{user}").data["user"]["level"]
    assert _credits(api, user) == 2 * level


def _credits(api, user: str) -> int:
    return int(api.get(f"/api/v1/users/info?id={user}").body["credits"])


def test_redelivered_records_change_nothing_more(api, rewarded, discord_app, table_stream, monkeypatch):
    monkeypatch.setenv("SHOP_GUILD_IDS", rewarded)
    _configure(api, rewarded, {"creditsPerLevel": 5, "levelUpAnnouncement": {"channelId": CHANNEL}})
    user = _member(discord_app, rewarded)
    _earn(api, discord_app, rewarded, user, LEVEL_XP[2])
    delivered: list[dict] = []
    table_stream._invoke, invoke = (lambda e: delivered.append(e) or invoke(e)), table_stream._invoke
    table_stream.drain()
    calls = len(discord_app.fake.calls)
    for event in delivered:  # the stream hands the same records again
        invoke(event)
    assert _credits(api, user) == 10
    assert len(discord_app.fake.messages[CHANNEL]) == 1
    assert not [c for c in discord_app.fake.calls[calls:] if c.method != "GET"]  # only member lookups


def test_message_awards_reach_the_effects_too(api, rewarded, discord_app, table_stream):
    from tests.support.sqs import consume, message

    user = _member(discord_app, rewarded)
    _set_xp(api, rewarded, user, LEVEL_XP[1] - 1)
    table_stream.drain()
    consume([message(rewarded, user, 1_300_000_000_000_000_001, 1_795_400_000_000)])
    table_stream.drain()
    assert discord_app.fake.member_roles(rewarded, user) == {ROLE_1}


def test_recalculation_after_a_curve_change_reconciles_roles(api, rewarded, discord_app, table_stream):
    user = _member(discord_app, rewarded)
    _set_xp(api, rewarded, user, 400)  # level 2 on the default curve
    table_stream.drain()
    assert discord_app.fake.member_roles(rewarded, user) == {ROLE_1, ROLE_2}
    _configure(
        api,
        rewarded,
        {
            "curve": {"a": 1, "b": 0, "c": 10},
            "removeRewardOnXpLoss": False,
            "levelUpAnnouncement": {"channelId": CHANNEL},
        },
    )
    assert api.post(f"/api/xp/recalc/{rewarded}").status == 200  # levels follow the cheaper curve: level 9
    table_stream.drain()
    assert discord_app.fake.member_roles(rewarded, user) == {ROLE_1, ROLE_2, ROLE_5}
    assert not discord_app.fake.messages.get(CHANNEL)  # a curve change announces nothing (thousands at once)


def test_without_a_bot_token_only_credits_apply(api, guild, discord_app, table_stream, monkeypatch):
    monkeypatch.delenv("DISCORD_BOT_TOKEN")
    monkeypatch.setenv("SHOP_GUILD_IDS", guild)
    _configure(
        api,
        guild,
        {
            "creditsPerLevel": 7,
            "roleRewards": [{"level": 1, "roleId": ROLE_1}],
            "levelUpAnnouncement": {"channelId": CHANNEL},
        },
    )
    user = _member(discord_app, guild)
    _earn(api, discord_app, guild, user, LEVEL_XP[1])
    table_stream.drain()
    assert discord_app.fake.calls == [] or all(c.method == "GET" for c in discord_app.fake.calls)
    assert discord_app.fake.member_roles(guild, user) == set()
    assert _credits(api, user) == 7


def test_servers_the_shop_does_not_trust_pay_no_credits(api, guild, discord_app, table_stream, monkeypatch):
    """Credits are one balance across servers: a server anyone can add the bot to must not mint them."""
    monkeypatch.setenv("SHOP_GUILD_IDS", "111111111111111111")
    _configure(api, guild, {"creditsPerLevel": 10_000})
    user = _member(discord_app, guild)
    _earn(api, discord_app, guild, user, LEVEL_XP[5])
    table_stream.drain()
    assert api.get(f"/api/v1/users/info?id={user}").status == 404  # no shop account, no credits


def test_a_member_lookup_refused_for_good_still_announces_and_pays(api, guild, discord_app, table_stream, monkeypatch):
    """The bot lost access to the guild's members (403): the roles can't be reconciled, but that must not hold
    the record (retried until the dead-letter queue) nor cost the member their announcement and credits."""
    monkeypatch.setenv("SHOP_GUILD_IDS", guild)
    _configure(
        api,
        guild,
        {
            "creditsPerLevel": 10,
            "roleRewards": [{"level": 1, "roleId": ROLE_1}],
            "levelUpAnnouncement": {"channelId": CHANNEL},
        },
    )
    user = _member(discord_app, guild)
    discord_app.fake.fail("GET", rf"/guilds/{guild}/members/{user}$", 403, 50001, "Missing Access", times=100)
    _earn(api, discord_app, guild, user, LEVEL_XP[2])
    table_stream.drain()
    assert [m["content"] for m in discord_app.fake.messages[CHANNEL]] == [f"GG <@{user}>, you reached level 2!"]
    assert _credits(api, user) == 20
    assert len(discord_app.fake.calls_to("GET", f"/guilds/{guild}/members/{user}")) == 1  # not retried
    assert discord_app.fake.member_roles(guild, user) == set()


def test_credits_do_not_wait_for_discord(api, rewarded, discord_app, table_stream, monkeypatch):
    """Credits are the shop's money and need no Discord call: a Discord outage longer than the stream's
    retries must not lose them (roles and the announcement can only be retried)."""
    monkeypatch.setenv("SHOP_GUILD_IDS", rewarded)
    _configure(api, rewarded, {"creditsPerLevel": 5})
    user = _member(discord_app, rewarded)
    discord_app.fake.fail("GET", r"/guilds/", 503, 0, "Service Unavailable", times=1000)
    _earn(api, discord_app, rewarded, user, LEVEL_XP[2])
    table_stream.drain()  # every attempt fails on Discord
    assert _credits(api, user) == 10
    assert discord_app.fake.member_roles(rewarded, user) == set()


def test_level_ups_of_a_member_are_announced_in_order_when_one_is_retried(api, guild, discord_app, table_stream):
    """Two level-ups in one stream batch, the first failing for a moment: the second must not be applied before
    the first (Lambda retries from the first failed record, so applying later records now only reorders them:
    'level 2' posted before 'level 1', replace-mode roles flapping)."""
    _configure(api, guild, {"levelUpAnnouncement": {"channelId": CHANNEL, "message": "{user} L{level}"}})
    user = _member(discord_app, guild)
    _set_xp(api, guild, user, LEVEL_XP[1])
    _set_xp(api, guild, user, LEVEL_XP[2])
    discord_app.fake.fail("POST", rf"/channels/{CHANNEL}/messages", 502, times=3)  # the client's 3 attempts
    table_stream.drain()
    assert [m["content"] for m in discord_app.fake.messages[CHANNEL]] == [f"<@{user}> L1", f"<@{user}> L2"]


# ---------------------------------------------------------------- the announcement: at least once, in practice once


class _Killed(BaseException):
    """The invocation dies here (a crash, Lambda's timeout): no handler of the function's runs after it."""


def _kill_once(monkeypatch, owner, name: str) -> list[bool]:
    """`owner.name` dies the first time it is called, then works: a crash at that point of the first attempt."""
    real, killed = getattr(owner, name), []

    def dying(*args, **kwargs):
        if not killed:
            killed.append(True)
            raise _Killed(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, dying)
    return killed


def _later(monkeypatch, seconds: float) -> None:
    """The claims' clock `seconds` ahead: the attempt that claimed can no longer be running."""
    from xpshop.store import markers

    real = markers.now_ms
    monkeypatch.setattr(markers, "now_ms", lambda: real() + int(seconds * 1000))


def _claim(guild: str, user: str, level: int) -> dict:
    from xpshop.store import markers

    return markers.get_level_effect(guild, user, level) or {}


def _announcing(api, guild: str, discord_app) -> str:
    _configure(api, guild, {"levelUpAnnouncement": {"channelId": CHANNEL, "message": "{user} L{level}"}})
    return _member(discord_app, guild)


def test_an_announcement_cut_off_after_its_claim_is_posted_by_the_retry(
    api, guild, discord_app, table_stream, monkeypatch
):
    """The first attempt claims the announcement and dies before posting it: the stream delivers the record
    again and, once that attempt cannot still be running, the retry posts it, once."""
    from xpshop.discord.rest import DiscordRest
    from xpshop.service import effects

    user = _announcing(api, guild, discord_app)
    _set_xp(api, guild, user, LEVEL_XP[2])
    killed = _kill_once(monkeypatch, DiscordRest, "create_message")
    with pytest.raises(_Killed):
        table_stream.drain()
    assert killed and not discord_app.fake.calls_to("POST", "/channels/")
    assert _claim(guild, user, 2)["state"] == "claimed"  # claimed, never posted: the gap this closes

    _later(monkeypatch, effects.FUNCTION_TIMEOUT_SECONDS + effects.CLAIM_GRACE_SECONDS + 1)
    table_stream.drain()  # the stream's retry of the record
    posted = discord_app.fake.messages[CHANNEL]
    assert [m["content"] for m in posted] == [f"<@{user}> L2"]
    assert len(discord_app.fake.calls_to("POST", f"/channels/{CHANNEL}/messages")) == 1
    claim = _claim(guild, user, 2)
    assert (claim["state"], claim["messageId"]) == ("sent", posted[0]["id"])
    assert "holdUntil" not in claim

    table_stream.drain()  # nothing more: the claim is sent
    _set_xp(api, guild, user, 0)
    _set_xp(api, guild, user, LEVEL_XP[2])  # level 2 again: not announced again
    table_stream.drain()
    assert len(discord_app.fake.messages[CHANNEL]) == 1


def test_a_post_that_reached_discord_before_the_crash_is_not_duplicated(
    api, guild, discord_app, table_stream, monkeypatch
):
    """The first attempt's post reached Discord, then the attempt died before marking the claim sent: the
    retry posts again with the same nonce and enforce_nonce, and Discord answers with the first message."""
    from xpshop.service import effects
    from xpshop.store import markers

    user = _announcing(api, guild, discord_app)
    _set_xp(api, guild, user, LEVEL_XP[3])
    _kill_once(monkeypatch, markers, "finish_level_effect")
    with pytest.raises(_Killed):
        table_stream.drain()
    assert len(discord_app.fake.messages[CHANNEL]) == 1
    assert _claim(guild, user, 3)["state"] == "claimed"

    _later(monkeypatch, effects.FUNCTION_TIMEOUT_SECONDS + effects.CLAIM_GRACE_SECONDS + 1)
    table_stream.drain()
    posted = discord_app.fake.messages[CHANNEL]
    assert [m["content"] for m in posted] == [f"<@{user}> L3"]  # one message: Discord answered with the first
    posts = discord_app.fake.calls_to("POST", f"/channels/{CHANNEL}/messages")
    assert len(posts) == 2  # posted again: the retry cannot know the first one got through
    nonce = effects.announcement_nonce(guild, user, 3)
    assert [(p.json["nonce"], p.json.get("enforce_nonce")) for p in posts] == [(nonce, True), (nonce, True)]
    assert len(nonce) <= 25
    claim = _claim(guild, user, 3)
    assert (claim["state"], claim["messageId"]) == ("sent", posted[0]["id"])


def test_a_claim_whose_attempt_may_still_run_is_waited_for_or_retried_not_skipped(api, guild, discord_app, monkeypatch):
    """A retry that finds the announcement claimed, not sent, by an attempt whose time is not up yet does not
    skip it: it waits out a short hold (the grace after a timed-out attempt's deadline) and posts, or fails the
    record (the stream retries it) when the hold is longer than that."""
    from xpshop.discord.rest import DiscordRest, bot_client
    from xpshop.service import effects

    user = _announcing(api, guild, discord_app)
    change = effects.LevelChange(guild, user, old_level=0, new_level=1, xp=LEVEL_XP[1], source="granted")
    _kill_once(monkeypatch, DiscordRest, "create_message")
    with pytest.raises(_Killed):
        effects.apply(change, bot_client, lambda: 40.0)  # the invocation had 40 s left when it claimed
    hold = _claim(guild, user, 1)["holdUntil"] - _claim(guild, user, 1)["at"]
    assert hold == (40 + effects.CLAIM_GRACE_SECONDS) * 1000  # its deadline, plus the clocks' grace

    with pytest.raises(effects.AnnouncementInFlight):
        effects.apply(change, bot_client, lambda: 100.0)  # 50 s of hold left: longer than a retry waits
    _later(monkeypatch, 40)  # 10 s left
    with pytest.raises(effects.AnnouncementInFlight):
        effects.apply(change, bot_client, lambda: 35.0)  # waiting would leave the record under its margin
    assert not discord_app.fake.messages.get(CHANNEL)

    slept: list[float] = []
    monkeypatch.setattr(effects, "_sleep", lambda seconds: slept.append(seconds) or _later(monkeypatch, seconds))
    outcome = effects.apply(change, bot_client, lambda: 100.0)
    assert len(slept) == 1 and 0 < slept[0] <= effects.CLAIM_GRACE_SECONDS + 0.1
    assert (outcome.announced, outcome.announcement) == (True, "reposted")
    assert [m["content"] for m in discord_app.fake.messages[CHANNEL]] == [f"<@{user}> L1"]
    again = effects.apply(change, bot_client, lambda: 100.0)  # a later record carrying level 1
    assert (again.announced, again.announcement) == (False, "done")
    assert len(discord_app.fake.messages[CHANNEL]) == 1 and len(slept) == 1


def test_a_refused_announcement_is_not_posted_again(api, guild, discord_app, table_stream, monkeypatch):
    """Discord refuses the post for good (the bot may not write there): the claim is marked refused, and a
    later retry or record does not try again, however late."""
    from xpshop.service import effects

    user = _announcing(api, guild, discord_app)
    discord_app.fake.fail("POST", rf"/channels/{CHANNEL}/messages", 403, 50013, "Missing Permissions")
    _set_xp(api, guild, user, LEVEL_XP[1])
    table_stream.drain()
    assert _claim(guild, user, 1)["state"] == "refused"
    _later(monkeypatch, effects.FUNCTION_TIMEOUT_SECONDS * 10)
    _set_xp(api, guild, user, 0)
    _set_xp(api, guild, user, LEVEL_XP[1])
    table_stream.drain()
    assert len(discord_app.fake.calls_to("POST", "/channels/")) == 1
    assert not discord_app.fake.messages.get(CHANNEL)


def test_a_claim_from_before_the_states_counts_as_announced(api, guild, discord_app, table_stream):
    """A claim written before claims had a state (no `state`): announced or not, it is not posted again (as
    before), whatever its age."""
    from xpshop.store import keys
    from xpshop.store.table import table

    user = _announcing(api, guild, discord_app)
    table().put_item(Item={**keys.level_effect(guild, user, 1), "at": 1, "ttl": 2_000_000_000})
    _set_xp(api, guild, user, LEVEL_XP[1])
    table_stream.drain()
    assert not discord_app.fake.calls_to("POST", "/channels/")
