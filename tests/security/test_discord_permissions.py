"""Discord permissions: who may configure role rewards, which roles may be rewards, and what the effects
function refuses to hand out (issue 12, finding 1: role escalation through rewards).

The attack: a member with Manage Server and nothing else configures `/xp config reward-add level:1
role:<an admin role>`, then gives themselves XP, and the bot grants the role with its own permissions."""

from __future__ import annotations

import pytest

from tests.support import discord as d
from tests.support.fake_discord import role
from tests.support.storage import new_user_id

MANAGE_SERVER_AND_ROLES = str((1 << 5) | (1 << 28))
ADMINISTRATOR = 1 << 3
OWNER = "700000000000000001"
MOD_ROLE, VIP_ROLE, HIGH_ROLE, ADMIN_ROLE, BOT_ROLE = (
    "640000000000000001",
    "640000000000000002",
    "640000000000000003",
    "640000000000000004",
    "640000000000000005",
)
DANGEROUS = {
    "administrator": 1 << 3,
    "manage server": 1 << 5,
    "manage roles": 1 << 28,
    "manage channels": 1 << 4,
    "manage webhooks": 1 << 29,
    "ban members": 1 << 2,
    "kick members": 1 << 1,
}


@pytest.fixture
def server(guild, discord_app):
    """A guild as Discord knows it: the moderator's role at position 5, a VIP role below, a plain role
    above, an admin role and a bot's managed role."""
    discord_app.fake.set_guild(
        guild,
        OWNER,
        [
            role(VIP_ROLE, position=2),
            role(MOD_ROLE, position=5),  # its powers come from the interaction's permissions here
            role(HIGH_ROLE, position=7),
            role(ADMIN_ROLE, position=1, permissions=ADMINISTRATOR),
            role(BOT_ROLE, position=3, managed=True),
        ],
    )
    return guild


def _resolved(guild_roles: dict, role_id: str) -> dict:
    """`data.resolved.roles` as Discord sends it for a ROLE option."""
    return {"roles": {role_id: guild_roles[role_id]}}


def _roles_of(discord_app, guild: str) -> dict:
    return {r["id"]: r for r in discord_app.fake._guild_roles(guild)}


def _reward_add(discord_app, guild, user, role_id, *, permissions=MANAGE_SERVER_AND_ROLES, roles=(MOD_ROLE,)):
    roles_now = _roles_of(discord_app, guild)
    resolved = _resolved(roles_now, role_id) if role_id in roles_now else None
    _, answer = d.call(
        discord_app.signer,
        d.command(
            guild,
            user,
            "xp",
            "config",
            "reward-add",
            options=[d.option("level", 1, 4), d.option("role", role_id, 8)],
            permissions=permissions,
            roles=list(roles),
            resolved=resolved,
        ),
    )
    return answer


def _text(answer: dict) -> str:
    data = answer["data"]
    return "\n".join([data.get("content") or ""] + [e.get("description") or "" for e in data.get("embeds", [])])


def _rewards(api, guild):
    return api.get(f"/api/xp/config/{guild}").data["roleRewards"]


def test_manage_server_alone_cannot_configure_role_rewards(api, server, discord_app):
    mod = new_user_id()
    for sub, options in [
        ("reward-add", [d.option("level", 1, 4), d.option("role", VIP_ROLE, 8)]),
        ("reward-remove", [d.option("level", 1, 4)]),
        ("reward-mode", [d.option("mode", "replace")]),
        ("remove-on-loss", [d.option("enabled", True, 5)]),
    ]:
        _, answer = d.call(
            discord_app.signer,
            d.command(server, mod, "xp", "config", sub, options=options, permissions=d.MANAGE_GUILD),
        )
        assert "Manage Roles" in _text(answer), sub
    cfg = api.get(f"/api/xp/config/{server}").data
    assert cfg["roleRewards"] == [] and cfg["rewardsMode"] == "stack" and cfg["removeRewardOnXpLoss"] is False


def test_the_escalation_is_closed_end_to_end(api, server, discord_app, table_stream):
    """Manage Server only: the admin role can't become a reward, so giving yourself XP grants nothing."""
    mod = new_user_id()
    discord_app.fake.set_member(server, mod, roles=[MOD_ROLE])
    answer = _reward_add(discord_app, server, mod, ADMIN_ROLE, permissions=d.MANAGE_GUILD)
    assert "Manage Roles" in _text(answer)
    _, given = d.call(
        discord_app.signer,
        d.command(
            server,
            mod,
            "xp",
            "give",
            options=[d.option("user", mod, 6), d.option("amount", 200, 4)],
            permissions=d.MANAGE_GUILD,
        ),
    )
    assert given["type"] == 4
    table_stream.drain()
    assert discord_app.fake.member_roles(server, mod) == {MOD_ROLE}
    assert discord_app.fake.calls_to("PUT", f"/guilds/{server}/members/{mod}/roles/") == []


@pytest.mark.parametrize("target", [HIGH_ROLE, MOD_ROLE], ids=["above", "at"])
def test_a_role_at_or_above_the_invokers_highest_is_refused(api, server, discord_app, target):
    answer = _reward_add(discord_app, server, new_user_id(), target)
    assert "below your highest role" in _text(answer)
    assert _rewards(api, server) == []


@pytest.mark.parametrize("permission", sorted(DANGEROUS))
def test_roles_with_moderation_permissions_are_refused_even_for_the_owner(api, server, discord_app, permission):
    risky = "640000000000000099"
    discord_app.fake.set_role(server, role(risky, position=1, permissions=DANGEROUS[permission]))
    answer = _reward_add(discord_app, server, OWNER, risky, permissions=str(ADMINISTRATOR), roles=())
    assert "can't be a level reward" in _text(answer)
    assert permission.split()[-1].lower() in _text(answer).lower()
    assert _rewards(api, server) == []


def test_managed_roles_and_everyone_are_refused(api, server, discord_app):
    assert "managed" in _text(_reward_add(discord_app, server, OWNER, BOT_ROLE, roles=()))
    assert "@everyone" in _text(_reward_add(discord_app, server, OWNER, server, roles=()))
    assert _rewards(api, server) == []


def test_a_role_below_the_invokers_highest_is_accepted(api, server, discord_app):
    answer = _reward_add(discord_app, server, new_user_id(), VIP_ROLE)
    assert "get" in _text(answer) and answer["data"]["embeds"]
    assert _rewards(api, server) == [{"level": 1, "roleId": VIP_ROLE}]


def test_the_owner_without_roles_may_use_any_safe_role(api, server, discord_app):
    _reward_add(discord_app, server, OWNER, HIGH_ROLE, permissions=str(ADMINISTRATOR), roles=())
    assert _rewards(api, server) == [{"level": 1, "roleId": HIGH_ROLE}]


def test_a_role_deleted_since_it_was_typed_is_refused(api, server, discord_app):
    gone = "640000000000000077"
    # Discord resolved it when the command was typed; the guild no longer lists it.
    _, answer = d.call(
        discord_app.signer,
        d.command(
            server,
            OWNER,
            "xp",
            "config",
            "reward-add",
            options=[d.option("level", 1, 4), d.option("role", gone, 8)],
            permissions=str(ADMINISTRATOR),
            resolved={"roles": {gone: role(gone, position=1)}},
        ),
    )
    assert "can't see that role" in _text(answer)
    assert _rewards(api, server) == []


def test_without_discord_the_hierarchy_is_not_guessed(api, server, discord_app, monkeypatch):
    """No bot token (or Discord down): the invoker's role positions are unknown, so the command is refused."""
    monkeypatch.delenv("DISCORD_BOT_TOKEN")
    answer = _reward_add(discord_app, server, new_user_id(), VIP_ROLE)
    assert "couldn't check the role hierarchy" in _text(answer)
    discord_app.fake.fail("GET", r"^/guilds/\d+$", 503, times=5)
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "test-bot-token")
    answer = _reward_add(discord_app, server, new_user_id(), VIP_ROLE)
    assert "couldn't check the role hierarchy" in _text(answer)
    assert _rewards(api, server) == []


def test_a_reward_role_that_became_dangerous_is_not_handed_out(api, server, discord_app, table_stream, capsys):
    """Configured while harmless, then given Administrator: the effects function skips it (and counts it)."""
    _reward_add(discord_app, server, new_user_id(), VIP_ROLE)
    assert _rewards(api, server) == [{"level": 1, "roleId": VIP_ROLE}]
    discord_app.fake.set_role(server, role(VIP_ROLE, position=2, permissions=ADMINISTRATOR))
    member = new_user_id()
    discord_app.fake.set_member(server, member)
    assert api.put(f"/api/xp/users/{server}/{member}", {"xp": 200}).status == 200
    table_stream.drain()
    assert discord_app.fake.member_roles(server, member) == set()
    assert discord_app.fake.calls_to("PUT", f"/guilds/{server}/members/{member}/roles/") == []
    assert '"RewardRoleSkippedUnsafe"' in capsys.readouterr().out


def test_replace_mode_never_strips_a_role_that_became_dangerous(api, server, discord_app, table_stream):
    """The other half of the attack: `replace` would remove lower rewards, e.g. a role turned admin."""
    assert api.post(f"/api/xp/config/{server}/rewards", {"level": 1, "roleId": VIP_ROLE}).status in (200, 201)
    assert api.post(f"/api/xp/config/{server}/rewards", {"level": 2, "roleId": HIGH_ROLE}).status in (200, 201)
    assert api.put(f"/api/xp/config/{server}", {"rewardsMode": "replace"}).status == 200
    from xpshop.service import curves

    curves.forget(server)
    member = new_user_id()
    discord_app.fake.set_member(server, member, roles=[VIP_ROLE])
    discord_app.fake.set_role(server, role(VIP_ROLE, position=2, permissions=ADMINISTRATOR))
    assert api.put(f"/api/xp/users/{server}/{member}", {"xp": 400}).status == 200  # level 2: replace VIP by HIGH
    table_stream.drain()
    assert discord_app.fake.member_roles(server, member) == {VIP_ROLE, HIGH_ROLE}
    assert discord_app.fake.calls_to("DELETE", f"/guilds/{server}/members/{member}/roles/") == []


# ---------------------------------------------------------------- the other reward settings (confused deputy)
# A moderator with Manage Roles, below a reward role the owner configured, must not make the bot take that
# role away (or hand it out) by changing the other settings: Discord would not let them manage it themselves.


def _setting(discord_app, guild, user, sub, options, *, roles=(MOD_ROLE,)):
    _, answer = d.call(
        discord_app.signer,
        d.command(
            guild,
            user,
            "xp",
            "config",
            sub,
            options=options,
            permissions=MANAGE_SERVER_AND_ROLES,
            roles=list(roles),
        ),
    )
    return answer


def _owner_rewards(api, guild, rewards, **settings):
    for level, role_id in rewards:
        assert api.post(f"/api/xp/config/{guild}/rewards", {"level": level, "roleId": role_id}).status in (200, 201)
    if settings:
        assert api.put(f"/api/xp/config/{guild}", settings).status == 200
    from xpshop.service import curves

    curves.forget(guild)


@pytest.mark.parametrize(
    ("sub", "options", "settings"),
    [
        ("reward-mode", [d.option("mode", "replace")], {}),
        ("reward-mode", [d.option("mode", "stack")], {"rewardsMode": "replace"}),
        ("remove-on-loss", [d.option("enabled", True, 5)], {}),
        ("reward-remove", [d.option("level", 5, 4)], {}),
        ("reward-remove", [d.option("level", 9, 4)], {"rewardsMode": "replace"}),  # HIGH at 5 would come back
    ],
    ids=["mode-replace", "mode-stack", "remove-on-loss", "remove-its-reward", "remove-above-it-in-replace"],
)
def test_a_setting_reaching_a_reward_role_above_the_invoker_is_refused(
    api, server, discord_app, sub, options, settings
):
    _owner_rewards(api, server, [(5, HIGH_ROLE), (9, VIP_ROLE)], **settings)
    before = api.get(f"/api/xp/config/{server}").data
    answer = _setting(discord_app, server, new_user_id(), sub, options)
    assert "at or above your highest role" in _text(answer) and f"<@&{HIGH_ROLE}>" in _text(answer)
    after = api.get(f"/api/xp/config/{server}").data
    assert {k: after[k] for k in ("roleRewards", "rewardsMode", "removeRewardOnXpLoss")} == {
        k: before[k] for k in ("roleRewards", "rewardsMode", "removeRewardOnXpLoss")
    }


def test_a_reward_added_in_replace_mode_may_not_take_a_higher_role_away(api, server, discord_app, table_stream):
    """Replace mode removes the lower rewards from a member reaching a new one: adding a safe role at level 9
    would have the bot strip HIGH (above the moderator) from everyone reaching it."""
    _owner_rewards(api, server, [(5, HIGH_ROLE)], rewardsMode="replace")
    answer = _setting(
        discord_app, server, new_user_id(), "reward-add", [d.option("level", 9, 4), d.option("role", VIP_ROLE, 8)]
    )
    assert "at or above your highest role" in _text(answer)
    assert _rewards(api, server) == [{"level": 5, "roleId": HIGH_ROLE}]
    answer = _setting(  # a level below HIGH's takes nothing from anyone: allowed
        discord_app, server, new_user_id(), "reward-add", [d.option("level", 2, 4), d.option("role", VIP_ROLE, 8)]
    )
    assert "✅" in _text(answer)


@pytest.mark.parametrize(
    ("sub", "options"),
    [
        ("reward-mode", [d.option("mode", "replace")]),
        ("remove-on-loss", [d.option("enabled", True, 5)]),
        ("reward-remove", [d.option("level", 9, 4)]),
        ("reward-add", [d.option("level", 12, 4), d.option("role", VIP_ROLE, 8)]),
    ],
)
def test_settings_reaching_only_roles_below_the_invoker_are_accepted(api, server, discord_app, sub, options):
    _owner_rewards(api, server, [(9, VIP_ROLE)])
    assert "✅" in _text(_setting(discord_app, server, new_user_id(), sub, options))


def test_the_owner_may_change_every_reward_setting(api, server, discord_app):
    _owner_rewards(api, server, [(5, HIGH_ROLE)])
    answer = _setting(discord_app, server, OWNER, "reward-mode", [d.option("mode", "replace")], roles=())
    assert "✅" in _text(answer)
    assert api.get(f"/api/xp/config/{server}").data["rewardsMode"] == "replace"


def test_the_end_to_end_strip_is_closed(api, server, discord_app, table_stream):
    """The attack: the owner rewards level 5 with HIGH; a Manage Roles moderator below HIGH turns on replace
    mode and adds a harmless reward at level 9; a member reaching 9 would lose HIGH."""
    _owner_rewards(api, server, [(5, HIGH_ROLE)])
    mod = new_user_id()
    _setting(discord_app, server, mod, "reward-mode", [d.option("mode", "replace")])
    _setting(discord_app, server, mod, "reward-add", [d.option("level", 9, 4), d.option("role", VIP_ROLE, 8)])
    member = new_user_id()
    discord_app.fake.set_member(server, member, roles=[HIGH_ROLE])
    from xpshop.service import curves

    curves.forget(server)
    assert api.put(f"/api/xp/users/{server}/{member}", {"xp": 1_000_000}).status == 200
    table_stream.drain()
    assert HIGH_ROLE in discord_app.fake.member_roles(server, member)
    assert discord_app.fake.calls_to("DELETE", f"/guilds/{server}/members/{member}/roles/") == []


# ---------------------------------------------------------------- the same effect through /xp import


@pytest.fixture
def cdn(monkeypatch):
    from tests.support.fake_cdn import FakeCdn

    with FakeCdn() as fake:
        monkeypatch.setenv("DISCORD_CDN_BASE_URL", fake.base_url)
        yield fake


def _import_rewards(discord_app, queue, cdn, guild, user, reward_roles, *, permissions, roles=(MOD_ROLE,)):
    """`/xp import` of a MEE6 page giving `user` 5000 XP and naming `reward_roles` at levels 1, 2, ...:
    the text of the worker's edited answer."""
    import json

    from tests.support.sqs import receive_all, run_worker

    page = {
        "players": [{"id": user, "xp": 5000}],
        "role_rewards": [{"rank": n, "role": {"id": r}} for n, r in enumerate(reward_roles, start=1)],
    }
    data = json.dumps(page).encode()
    attachment_id = d.next_snowflake()
    path = f"/ephemeral-attachments/{d.CHANNEL}/{attachment_id}/mee6.json"
    cdn.serve(path, data, content_type="application/json")
    attachment = {"id": attachment_id, "filename": "mee6.json", "size": len(data), "url": f"{cdn.base_url}{path}"}
    payload = d.command(
        guild,
        user,
        "xp",
        "import",
        options=[d.option("file", attachment_id, 11)],
        permissions=permissions,
        roles=list(roles),
        resolved={"attachments": {attachment_id: attachment}},
    )
    status, answer = d.call(discord_app.signer, payload)
    assert status == 200 and answer["type"] == 5, answer
    assert run_worker(receive_all(queue)) == {"batchItemFailures": []}
    edit = discord_app.fake.webhook_messages[(d.APP_ID, payload["token"])][-1]
    return "\n".join(e.get("description", "") for e in edit.get("embeds", []))


def test_import_with_role_rewards_needs_manage_roles(api, server, discord_app, interactions_queue, cdn, table_stream):
    """Manage Server only: a MEE6 file's role_rewards would configure a reward (and the import the XP to reach
    it), so the bot would hand the moderator a role above their own. Refused, nothing written."""
    mod = new_user_id()
    discord_app.fake.set_member(server, mod, roles=[MOD_ROLE])
    edit = _import_rewards(discord_app, interactions_queue, cdn, server, mod, [HIGH_ROLE], permissions=d.MANAGE_GUILD)
    assert "Manage Roles" in edit
    table_stream.drain()
    assert _rewards(api, server) == []
    assert api.get(f"/api/xp/users/{server}/{mod}").data["user"]["xp"] < 5000  # the rows were not imported either
    assert discord_app.fake.member_roles(server, mod) == {MOD_ROLE}


@pytest.mark.parametrize("target", [MOD_ROLE, HIGH_ROLE, ADMIN_ROLE, BOT_ROLE, "guild"])
def test_import_with_role_rewards_follows_the_hierarchy(
    api, server, discord_app, interactions_queue, cdn, table_stream, target
):
    """With Manage Roles, the file's roles pass the same checks as reward-add (a safe role alongside one that
    is not: the whole file is refused)."""
    mod = new_user_id()
    discord_app.fake.set_member(server, mod, roles=[MOD_ROLE])
    bad = server if target == "guild" else target
    edit = _import_rewards(
        discord_app, interactions_queue, cdn, server, mod, [VIP_ROLE, bad], permissions=MANAGE_SERVER_AND_ROLES
    )
    assert "was not imported" in edit
    table_stream.drain()
    assert _rewards(api, server) == []
    assert discord_app.fake.member_roles(server, mod) == {MOD_ROLE}


def test_import_with_safe_role_rewards_below_the_invoker_is_applied(api, server, discord_app, interactions_queue, cdn):
    mod = new_user_id()
    edit = _import_rewards(
        discord_app, interactions_queue, cdn, server, mod, [VIP_ROLE], permissions=MANAGE_SERVER_AND_ROLES
    )
    assert "Imported" in edit, edit
    assert _rewards(api, server) == [{"level": 1, "roleId": VIP_ROLE}]


# ---------------------------------------------------------------- announcements: the bot posts for the invoker

ANNOUNCE_CHANNEL = "330000000000000001"


def _announce(discord_app, guild, channel_permissions, *, message="GG {user}", resolved=True):
    channels = {ANNOUNCE_CHANNEL: d.channel(ANNOUNCE_CHANNEL, channel_permissions)} if resolved else None
    _, answer = d.call(
        discord_app.signer,
        d.command(
            guild,
            new_user_id(),
            "xp",
            "config",
            "announce",
            options=[d.option("channel", ANNOUNCE_CHANNEL, 7), d.option("message", message)],
            permissions=d.MANAGE_GUILD,
            roles=[MOD_ROLE],
            resolved={"channels": channels} if channels else None,
        ),
    )
    return answer


@pytest.mark.parametrize(
    "channel_permissions",
    [str(1 << 10), str(1 << 11), "0", None],
    ids=["view-only", "send-without-view", "nothing", "not-resolved"],
)
def test_announcements_go_only_where_the_invoker_may_post(api, server, discord_app, channel_permissions):
    """A Manage Server moderator who can't post in a read-only (or hidden) channel must not have the bot post
    their template there."""
    answer = _announce(
        discord_app, server, channel_permissions or "0", message="Free nitro {user}", resolved=bool(channel_permissions)
    )
    assert "can't send messages" in _text(answer)
    assert api.get(f"/api/xp/config/{server}").data["levelUpAnnouncement"]["channelId"] is None


@pytest.mark.parametrize("channel_permissions", [str((1 << 10) | (1 << 11)), str(ADMINISTRATOR)])
def test_announcements_may_go_where_the_invoker_posts(api, server, discord_app, channel_permissions):
    answer = _announce(discord_app, server, channel_permissions)
    assert "✅" in _text(answer)
    assert api.get(f"/api/xp/config/{server}").data["levelUpAnnouncement"]["channelId"] == ANNOUNCE_CHANNEL
