"""Member privacy on DynamoDB Local: PUT /api/xp/users/{g}/{u}/privacy and /privacy in Discord set the same
flag; public (anonymous) leaderboards mask hidden members while everyone's rank stays true; the admin sees
exactly what it saw before."""

from __future__ import annotations

from tests.support import discord as d
from tests.support.storage import member_item, new_guild_id, new_user_id, recorded_calls
from xpshop.levels import DEFAULT_CURVE

EPHEMERAL = 64
HASH = "0123456789abcdef0123456789abcdef"


def privacy(guild: str, user: str) -> str:
    return f"/api/xp/users/{guild}/{user}/privacy"


def _board(api, guild: str, people: int = 5) -> list[str]:
    """`people` members at distinct XP (descending in creation order), the rank counters up to date."""
    users = [new_user_id() for _ in range(people)]
    for n, user in enumerate(users):
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 5000 - 700 * n}).status == 200
    api.before_read()
    return users


def _name(guild: str, user: str, name: str, avatar: str | None = HASH) -> None:
    """Display data as a relayed message leaves it (written directly: the message path has its own tests)."""
    from xpshop.store import keys
    from xpshop.store.table import table

    values = {":n": name, ":u": name.lower()}
    expression = "SET displayName = :n, username = :u"
    if avatar:
        expression += ", avatar = :a"
        values[":a"] = avatar
    table().update_item(Key=keys.member(guild, user), UpdateExpression=expression, ExpressionAttributeValues=values)


# ---------------------------------------------------------------- the API


def test_hide_and_show_through_the_api(api, guild):
    user = _board(api, guild, 1)[0]
    r = api.put(privacy(guild, user), {"hidden": True})
    assert (r.status, r.data) == (200, {"hidden": True, "created": False})
    assert member_item(guild, user)["hidden"] is True
    assert api.put(privacy(guild, user), {"hidden": True}).data == {"hidden": True, "created": False}  # idempotent
    assert api.put(privacy(guild, user), {"hidden": False}).data == {"hidden": False, "created": False}
    assert "hidden" not in member_item(guild, user)  # shown is the default: nothing kept
    assert api.get(f"/api/xp/users/{guild}/{user}").data["user"]["xp"] == 5000  # XP untouched


def test_hiding_a_member_without_a_record_creates_it_at_zero_xp(api, guild):
    user = new_user_id()
    assert api.put(privacy(guild, user), {"hidden": False}).data == {"hidden": False, "created": False}
    assert member_item(guild, user) is None  # showing never creates a record
    assert api.put(privacy(guild, user), {"hidden": True}).data == {"hidden": True, "created": True}
    detail = api.get(f"/api/xp/users/{guild}/{user}").data
    assert (detail["user"]["xp"], detail["user"]["level"], detail["user"]["messages"]) == (0, 0, 0)
    assert api.get(f"/api/xp/stats/{guild}").data["users"]["total"] == 1  # counted like any new member
    assert api.get(f"/api/xp/leaderboard/{guild}").data["entries"] == [{"userId": user, "xp": 0, "level": 0, "rank": 1}]
    api.post(f"/api/xp/users/{guild}/{user}", {"amount": 40})  # the choice holds once they earn XP
    assert member_item(guild, user)["hidden"] is True


def test_auth_guild_user_and_method_checks(api, guild):
    user = new_user_id()
    assert api.put(privacy(guild, user), {"hidden": True}, key=None).status == 401
    assert api.put(privacy(new_guild_id(), user), {"hidden": True}).error["code"] == "GUILD_NOT_FOUND"
    assert api.put(privacy(guild, "12"), {"hidden": True}).status == 400
    r = api.get(privacy(guild, user))
    assert (r.status, r.error["code"], r.headers["allow"]) == (405, "METHOD_NOT_ALLOWED", "PUT")
    assert member_item(guild, user) is None


def test_idempotency_key_replays_the_first_answer(api, guild):
    user = new_user_id()
    headers = {"Idempotency-Key": "privacy-1"}
    first = api.put(privacy(guild, user), {"hidden": True}, headers=headers)
    assert first.data == {"hidden": True, "created": True}
    again = api.put(privacy(guild, user), {"hidden": True}, headers=headers)
    assert again.data == first.data  # the same answer, not "created": false
    assert api.put(privacy(guild, user), {"hidden": False}, headers=headers).error["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_the_answer_matches_its_documented_shape(api, guild):
    from xpshop.api.envelope import Envelope
    from xpshop.api.xp import responses

    Envelope[responses.Privacy].model_validate(api.put(privacy(guild, new_user_id()), {"hidden": True}).body)


# ---------------------------------------------------------------- public views


def test_public_leaderboard_masks_hidden_members_and_ranks_stay_true(api, guild):
    users = _board(api, guild)
    for n, user in enumerate(users):
        _name(guild, user, f"Member {n}", HASH if n % 2 == 0 else None)
    api.put(f"/api/xp/config/{guild}", {"leaderboard": {"public": True}})
    admin_before = api.get(f"/api/xp/leaderboard/{guild}?limit=10").body
    ranks_before = [api.get(f"/api/xp/leaderboard/{guild}/{u}").data for u in users]
    public_before = api.get(f"/api/xp/leaderboard/{guild}?limit=10", key=None).data

    api.put(privacy(guild, users[1]), {"hidden": True})
    api.before_read()

    # the admin sees exactly what it saw: ids, the seed's entry shape, the same ranks
    assert api.get(f"/api/xp/leaderboard/{guild}?limit=10").body == admin_before
    assert [api.get(f"/api/xp/leaderboard/{guild}/{u}").data for u in users] == ranks_before
    level = DEFAULT_CURVE.level
    assert admin_before["data"]["entries"][1] == {"userId": users[1], "xp": 4300, "level": level(4300), "rank": 2}

    public = api.get(f"/api/xp/leaderboard/{guild}?limit=10", key=None).data
    assert public["total"] == public_before["total"] == 5
    assert [e["rank"] for e in public["entries"]] == [1, 2, 3, 4, 5]
    assert public["entries"][1] == {
        "userId": None,
        "xp": 4300,
        "level": level(4300),
        "rank": 2,
        "hidden": True,
        "displayName": None,
        "avatar": None,
    }
    assert public["entries"][0] == {
        "userId": users[0],
        "xp": 5000,
        "level": level(5000),
        "rank": 1,
        "hidden": False,
        "displayName": "Member 0",
        "avatar": HASH,
    }
    assert public["entries"][3]["avatar"] is None and public["entries"][3]["displayName"] == "Member 3"
    # everyone else's entry is unchanged by the hiding
    assert [e for n, e in enumerate(public["entries"]) if n != 1] == [
        e for n, e in enumerate(public_before["entries"]) if n != 1
    ]
    hidden_text = str(public)
    assert users[1] not in hidden_text and "Member 1" not in hidden_text

    from xpshop.api.envelope import Envelope
    from xpshop.api.xp import responses

    Envelope[responses.PublicLeaderboardPage].model_validate({"success": True, "data": public})

    api.put(privacy(guild, users[1]), {"hidden": False})
    assert api.get(f"/api/xp/leaderboard/{guild}?limit=10", key=None).data == public_before


def test_public_rank_of_a_hidden_member_answers_like_an_unknown_one(api, guild):
    users = _board(api, guild, 3)
    api.put(f"/api/xp/config/{guild}", {"leaderboard": {"public": True}})
    assert api.get(f"/api/xp/leaderboard/{guild}/{users[1]}", key=None).data == {"rank": 2, "total": 3}
    api.put(privacy(guild, users[1]), {"hidden": True})
    hidden = api.get(f"/api/xp/leaderboard/{guild}/{users[1]}", key=None)
    unknown_user = new_user_id()
    unknown = api.get(f"/api/xp/leaderboard/{guild}/{unknown_user}", key=None)
    assert hidden.status == unknown.status == 404
    assert hidden.error == {**unknown.error, "message": unknown.error["message"].replace(unknown_user, users[1])}
    assert api.get(f"/api/xp/leaderboard/{guild}/{users[1]}").data == {"rank": 2, "total": 3}  # the admin
    assert api.get(f"/api/xp/leaderboard/{guild}/{users[2]}", key=None).data == {"rank": 3, "total": 3}


def test_a_private_board_stays_closed_to_anonymous_callers(api, guild):
    users = _board(api, guild, 2)
    api.put(privacy(guild, users[0]), {"hidden": True})
    assert api.get(f"/api/xp/leaderboard/{guild}", key=None).status == 401
    assert api.get(f"/api/xp/leaderboard/{guild}/{users[1]}", key=None).status == 401


def test_a_public_page_costs_two_reads_more_than_the_admin_page(api, guild):
    _board(api, guild, 3)
    api.put(f"/api/xp/config/{guild}", {"leaderboard": {"public": True}})
    api.get(f"/api/xp/leaderboard/{guild}", key=None)  # warm: the curve's config cache
    api.before_read()
    with recorded_calls() as admin:
        api.request("GET", f"/api/xp/leaderboard/{guild}")
    with recorded_calls() as public:
        api.request("GET", f"/api/xp/leaderboard/{guild}", key=None)
    # the guild's config (is the board public?) and the page's display data, one BatchGetItem each
    assert public - admin == {"BatchGetItem": 2}, (public, admin)


# ---------------------------------------------------------------- /privacy in Discord


def _text(answer: dict) -> str:
    return "\n".join(e.get("description") or "" for e in answer["data"].get("embeds", []))


def test_privacy_command_hides_shows_and_reports(api, guild, discord_app):
    user = _board(api, guild, 2)[1]
    _name(guild, user, "**Ada** <@1> [x](https://e.x)")
    status, answer = d.call(discord_app.signer, d.command(guild, user, "privacy", "status"))
    assert status == 200 and answer["data"]["flags"] == EPHEMERAL
    text = _text(answer)
    assert "shown" in text and "not public" in text
    assert "**Ada**" not in text and "<@1>" not in text and "](" not in text  # the name is escaped
    assert "\\*\\*Ada\\*\\*" in text

    _, answer = d.call(discord_app.signer, d.command(guild, user, "privacy", "hide"))
    assert answer["data"]["flags"] == EPHEMERAL and "Hidden member" in _text(answer)
    assert member_item(guild, user)["hidden"] is True
    assert api.put(privacy(guild, user), {"hidden": True}).data["hidden"] is True  # the same flag as the API
    _, answer = d.call(discord_app.signer, d.command(guild, user, "privacy", "status"))
    assert "hidden" in _text(answer)

    _, answer = d.call(discord_app.signer, d.command(guild, user, "privacy", "show"))
    assert "You are shown" in _text(answer)
    assert "hidden" not in member_item(guild, user)


def test_privacy_records_nothing_but_the_choice(api, guild, discord_app):
    user = new_user_id()
    _, answer = d.call(discord_app.signer, d.command(guild, user, "privacy", "status"))
    assert "nothing yet" in _text(answer)
    d.call(discord_app.signer, d.command(guild, user, "privacy", "show"))
    assert member_item(guild, user) is None  # asking, or showing, creates no record and keeps no name
    _, answer = d.call(discord_app.signer, d.command(guild, user, "privacy", "hide"))
    assert "Hidden member" in _text(answer)
    item = member_item(guild, user)
    assert (item["hidden"], item["xp"], item["messages"]) == (True, 0, 0)  # /privacy earns no command XP
    assert "displayName" not in item and "username" not in item
    d.call(discord_app.signer, d.command(guild, user, "rank"))  # any other command counts and records names
    item = member_item(guild, user)
    assert (item["hidden"], item["messages"], item["displayName"]) == (True, 1, "Member")


def test_privacy_is_for_the_invoker_in_a_server_and_runs_once(api, guild, discord_app):
    user = new_user_id()
    _, answer = d.call(discord_app.signer, d.command(None, user, "privacy", "hide"))
    assert "only works in a server" in _text(answer)
    payload = d.command(guild, user, "privacy", "hide")
    d.call(discord_app.signer, payload)
    api.put(privacy(guild, user), {"hidden": False})
    _, replay = d.call(discord_app.signer, payload)  # the same signed request again
    assert "already handled" in _text(replay)
    assert "hidden" not in member_item(guild, user)


def test_privacy_is_registered_for_every_member():
    from xpshop.discord import definitions

    command = next(c for c in definitions.definitions() if c["name"] == "privacy")
    assert "default_member_permissions" not in command
    assert [o["name"] for o in command["options"]] == ["status", "hide", "show", "export", "delete"]
    assert command["contexts"] == [0]
