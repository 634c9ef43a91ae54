"""The web leaderboard on DynamoDB Local: who sees what (private, unknown, hidden) and what a page costs."""

from __future__ import annotations

import pytest

from tests.support.board import Page, set_profile
from tests.support.storage import guild_curve, new_guild_id, recorded_calls, spread_bands

USERS = [str(600_000_000_000_000_000 + i * 7_919_000_000_000) for i in range(250)]


def _xp(n: int) -> int:
    # spread over 0-3000 with ties: pages cross from the thousands into the exact-XP ranges below 1,000
    return 5 + (n * 37) % 3000


@pytest.fixture
def board_guild(api, guild, request):
    """250 public-board members; on the guild's single band, or on the fine bands when parametrized with
    `fine` True (indirect)."""
    from xpshop.store import members as store

    if getattr(request, "param", False):
        spread_bands(guild)
    for n, user in enumerate(USERS):
        store.set_xp(guild, user, _xp(n), guild_curve(guild))
    for n, user in enumerate(USERS):
        if n % 5:  # every fifth stays without display data (a member seen before it was kept)
            set_profile(guild, user, display_name=f"Player-{n:03d}", username=f"user{n:03d}")
    return guild


def _get(api, guild: str, page: str = ""):
    return api.get(f"/leaderboard/{guild}{page}", key=None)


def _public(api, guild: str, public: bool = True) -> None:
    assert api.put(f"/api/xp/config/{guild}", {"leaderboard": {"public": public}}).status == 200


def _cold() -> None:
    """Forget what the container cached (config, curve, guild name), as a fresh Lambda container would."""
    from xpshop.service import board, curves

    curves.forget()
    board.forget()


def test_visibility_follows_leaderboard_public_and_never_leaks(api, board_guild):
    unknown = _get(api, new_guild_id())
    private = _get(api, board_guild)
    assert (private.status, private.body) == (404, unknown.body)
    _public(api, board_guild)
    assert _get(api, board_guild).status == 200
    _public(api, board_guild, False)
    assert (_get(api, board_guild).status, _get(api, board_guild).body) == (404, unknown.body)


def test_pages_list_the_same_members_in_the_same_order_as_the_api(api, board_guild):
    _public(api, board_guild)
    for number, offset in ((1, 0), (2, 100), (3, 200)):
        rows = Page(_get(api, board_guild, f"?page={number}").body).rows
        entries = api.get(f"/api/xp/leaderboard/{board_guild}?offset={offset}&limit=100").data["entries"]
        assert [(r["rank"], r["xp"], r["level"]) for r in rows] == [
            (str(e["rank"]), f"{e['xp']:,}", str(e["level"])) for e in entries
        ]
    assert _get(api, board_guild, "?page=4").status == 404


def test_hiding_a_member_changes_their_row_only(api, board_guild):
    _public(api, board_guild)
    before = Page(_get(api, board_guild).body).rows
    top = api.get(f"/api/xp/leaderboard/{board_guild}?limit=3").data["entries"]
    hidden = top[1]["userId"]
    assert before[1]["name"].startswith("Player-")
    set_profile(board_guild, hidden, avatar="0123456789abcdef0123456789abcdef", hidden=True)
    r = _get(api, board_guild)
    after = Page(r.body).rows
    assert hidden not in r.body
    assert after[1]["name"] == "Hidden member" and before[1]["name"] != "Hidden member"
    assert before[1]["name"] not in r.body
    assert [(a["rank"], a["xp"]) for a in after] == [(b["rank"], b["xp"]) for b in before]
    assert [a["name"] for i, a in enumerate(after) if i != 1] == [b["name"] for i, b in enumerate(before) if i != 1]
    # the public API leaderboard still answers admins with ids
    assert api.get(f"/api/xp/leaderboard/{board_guild}?limit=3").data["entries"][1]["userId"] == hidden


@pytest.mark.parametrize("board_guild", [False, True], ids=["single-band", "fine-bands"], indirect=True)
def test_dynamodb_requests_per_page(api, board_guild, monkeypatch):
    """Target: the counts from before the bands for a guild on its single band (every guild below
    keys.FINE_BANDS_FROM members); on the fine bands +1 index Query per band a page runs into. The first
    pages (within board.DIRECT_READ_MAX of the top) are read from the top of the index: the A counters (and
    on the fine bands the B counters of the top million when it spans bands: it does on the default curve
    below level ~77), then the band(s) down from the top member's; deeper ones are located through the rank
    counters (A, B, C, and T below 1,000 XP). The registry + config read is skipped while the container has
    them (curves.CACHE_SECONDS). This guild's 250 members are at 5-3,000 XP: levels 0-7, on the fine bands
    bands 0 (levels 0-5, up to 2,104 XP) and 1 (levels 6-8), so the top pages read past the boundary."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.service import board
    from xpshop.store import keys

    fine = guild_curve(board_guild).banded
    _public(api, board_guild)
    api.before_read()  # deliver the stream to the rank index first: only the page's own requests count
    cost = _costs(api, board_guild)
    print("requests per page:", cost)
    assert {keys.band(DEFAULT_CURVE.level(_xp(n)), fine) for n in range(len(USERS))} == ({0, 1} if fine else {0})
    for page in ("?page=1", "?page=2", "?page=3"):
        # fine: registry+config, A and B counters, the index in band 1 then band 0, display data
        # single band: registry+config, A counters, the index, display data (as before the bands)
        assert cost[(page, "cold")] == (6 if fine else 4), cost
        assert cost[(page, "warm")] == (5 if fine else 3), cost
    monkeypatch.setattr(board, "DIRECT_READ_MAX", 0)  # pages 2 and 3 as deep pages are read
    deep = _costs(api, board_guild)
    print("requests per page located through the counters:", deep)
    assert deep[("?page=2", "warm")] == 5, deep  # from 1,000 XP: A, B, C, index, display data
    assert deep[("?page=3", "warm")] == 6, deep  # below 1,000 XP: A, B, C, T, index, display data
    for page in ("?page=2", "?page=3"):
        assert deep[(page, "cold")] == deep[(page, "warm")] + 1
    _cold()
    with recorded_calls() as calls:
        assert api.api.handle(_request(f"/leaderboard/{board_guild}?page=99")).status == 404
    assert sum(calls.values()) == 2, calls  # the registry + config read, the A counters


def test_a_private_board_costs_what_an_unknown_guild_does_every_time(api, guild):
    """Same answer and same work (one BatchGetItem, never served from the container's cache), so neither
    the page nor its timing tells a private guild from an unknown one."""
    unknown = new_guild_id()
    for _ in range(3):
        for target in (f"/leaderboard/{guild}", f"/leaderboard/{unknown}"):
            with recorded_calls() as calls:
                assert api.api.handle(_request(target)).status == 404
            assert calls == {"BatchGetItem": 1}, (target, calls)


def _costs(api, guild: str) -> dict[tuple[str, str], int]:
    cost: dict[tuple[str, str], int] = {}
    for page in ("?page=1", "?page=2", "?page=3"):
        for state in ("cold", "warm"):
            if state == "cold":
                _cold()
            with recorded_calls() as calls:
                assert api.api.handle(_request(f"/leaderboard/{guild}{page}")).status == 200
            assert set(calls) <= {"Query", "BatchGetItem"}, calls
            cost[(page, state)] = sum(calls.values())
    return cost


def _request(target: str):
    from local.server import HttpRequest

    return HttpRequest(method="GET", target=target, headers=[("host", "localhost")])
