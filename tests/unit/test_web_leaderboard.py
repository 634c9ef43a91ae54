"""The public web leaderboard on moto: escaping, page bounds, one 404 for private/unknown/malformed, hidden
members, ETag/304, gzip, noindex, the accent colour, and the pure helpers behind them."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json

import pytest

from tests.support.board import Page, set_profile
from xpshop.levels import DEFAULT_CURVE

G, OTHER = "111111111111111111", "333333333333333333"
U = [str(222_222_222_222_222_200 + i) for i in range(10)]
HASH = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def api(api_moto):
    assert api_moto.put(f"/api/xp/guilds/{G}", {"name": "Pixel Crafters"}).status == 201
    return api_moto


def _public(api, **leaderboard) -> None:
    assert api.put(f"/api/xp/config/{G}", {"leaderboard": {"public": True, **leaderboard}}).status == 200


def _members(api, count: int) -> list[str]:
    """`count` members, U[0] first (most XP)."""
    for i, user in enumerate(U[:count]):
        assert api.put(f"/api/xp/users/{G}/{user}", {"xp": 5000 - 400 * i}).status == 200
    return U[:count]


def _board(api, target: str = f"/leaderboard/{G}", **headers: str):
    return api.get(target, key=None, headers=headers)


def _without_request_id(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "apigw-requestid"}


# ---------------------------------------------------------------- visibility


def test_private_unknown_and_malformed_guilds_get_the_very_same_404(api):
    """Nothing tells a private board from an unknown guild or a bad id: status, headers and bytes agree."""
    _members(api, 2)
    private = _board(api)
    answers = [
        private,
        _board(api, f"/leaderboard/{OTHER}"),
        _board(api, f"/leaderboard/{OTHER}?page=7"),
        _board(api, f"/leaderboard/{G}?page=abc"),
        _board(api, "/leaderboard/not-a-guild"),
        _board(api, "/leaderboard/0123456789012345678"),
        _board(api, "/leaderboard/" + "9" * 40),
        _board(api, "/leaderboard/%3Cscript%3E"),
    ]
    for r in answers:
        assert r.status == 404
        assert r.body == private.body
        assert _without_request_id(r.headers) == _without_request_id(private.headers)
    assert "Leaderboard not found" in private.body
    assert G not in private.body and "Pixel" not in private.body
    assert "etag" not in private.headers
    # no cache may keep the 404: making the board public shows at once (README), not after max-age
    assert private.headers["cache-control"] == "no-store"
    _public(api)
    assert _board(api).status == 200


def test_a_public_board_lists_members_in_order(api):
    users = _members(api, 4)
    _public(api)
    r = _board(api)
    assert r.status == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=60"
    page = Page(r.body)
    assert [row["rank"] for row in page.rows] == ["1", "2", "3", "4"]
    assert [row["xp"] for row in page.rows] == ["5,000", "4,600", "4,200", "3,800"]
    assert [row["level"] for row in page.rows] == [str(DEFAULT_CURVE.level(xp)) for xp in (5000, 4600, 4200, 3800)]
    assert [img["src"] for img in page.images][:1] == [
        f"https://cdn.discordapp.com/embed/avatars/{(int(users[0]) >> 22) % 6}.png"
    ]
    assert all(img["alt"] for img in page.images)
    assert "<h1>Pixel Crafters</h1>" in r.body
    assert '<html lang="en">' in r.body
    assert "<caption>" in r.body and '<th scope="col"' in r.body
    assert page.scripts == 0


def test_names_fall_back_to_the_username_then_a_label_never_the_id(api):
    users = _members(api, 3)
    set_profile(G, users[0], display_name="Alice", username="alice_01", avatar=HASH)
    set_profile(G, users[1], username="bob")
    _public(api)
    r = _board(api)
    page = Page(r.body)
    assert [row["name"] for row in page.rows] == ["Alice", "bob", "Unnamed member"]
    assert page.images[0]["src"] == f"https://cdn.discordapp.com/avatars/{users[0]}/{HASH}.png?size=64"
    assert page.images[0]["alt"] == "Avatar of Alice"


# ---------------------------------------------------------------- escaping


@pytest.mark.parametrize(
    "name",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "</title><script>alert(1)</script>",
        "{{ 7*7 }} {% if 1 %}x{% endif %}",
        "Ünïcødé 名前 \u202eevil",
    ],
)
def test_names_are_text_never_markup(api, name):
    users = _members(api, 1)
    set_profile(G, users[0], display_name=name, avatar="../../evil")
    _public(api)
    r = _board(api)
    assert "<script" not in r.body.lower()
    page = Page(r.body)
    assert len(page.images) == 1 and "onerror" not in page.images[0]  # no element made of the name
    assert page.rows[0]["name"] == name
    assert page.scripts == 0
    assert "49" not in page.rows[0]["name"]  # no template evaluation of member text
    assert page.images[0]["src"].startswith("https://cdn.discordapp.com/embed/avatars/")  # bad hash: default
    assert name in page.meta["og:description"]


def test_a_guild_name_is_escaped_in_the_title_heading_and_meta(api):
    other = "444444444444444444"
    api.put(f"/api/xp/guilds/{other}", {"name": "</title><script>x()</script>"})
    api.put(f"/api/xp/config/{other}", {"leaderboard": {"public": True}})
    r = _board(api, f"/leaderboard/{other}")
    assert r.status == 200
    assert "<script" not in r.body.lower()
    assert Page(r.body).title == "</title><script>x()</script> leaderboard"


def test_long_names_are_clipped_and_whitespace_collapsed(api):
    users = _members(api, 1)
    set_profile(G, users[0], display_name="a\n\nb " + "x" * 300)
    _public(api)
    name = Page(_board(api).body).rows[0]["name"]
    assert name.startswith("a b xxx") and name.endswith("…") and len(name) == 80


# ---------------------------------------------------------------- hidden members


def test_a_hidden_member_shows_no_name_avatar_id_or_card_and_keeps_their_rank(api):
    users = _members(api, 3)
    set_profile(G, users[0], display_name="Secret Agent", username="agent007", avatar=HASH, hidden=True)
    set_profile(G, users[1], display_name="Visible")
    _public(api)
    r = _board(api)
    assert users[0] not in r.body
    for leak in ("Secret Agent", "agent007", HASH):
        assert leak not in r.body
    page = Page(r.body)
    assert [(row["rank"], row["name"]) for row in page.rows] == [
        ("1", "Hidden member"),
        ("2", "Visible"),
        ("3", "Unnamed member"),
    ]
    assert "hidden" in page.rows[0]["class"]
    assert len(page.images) == 2  # the hidden member has a placeholder, not an image
    # the preview image is the rank card of the first member who is not hidden
    assert page.meta["og:image"] == f"http://localhost/cards/{G}/{users[1]}.png"
    assert page.meta["twitter:card"] == "summary_large_image"
    assert f"../cards/{G}/{users[1]}.png" in [a.get("href") for a in page.links]


def test_a_page_of_hidden_members_has_no_preview_image(api):
    users = _members(api, 2)
    for user in users:
        set_profile(G, user, hidden=True)
    _public(api)
    page = Page(_board(api).body)
    assert "og:image" not in page.meta
    assert page.meta["twitter:card"] == "summary"
    assert not any(u in _board(api).body for u in users)


# ---------------------------------------------------------------- pages


@pytest.fixture(params=["from the top", "through the counters"])
def pages_of_two(api, monkeypatch, request):
    from xpshop.service import board

    monkeypatch.setattr(board, "PAGE_SIZE", 2)
    monkeypatch.setattr(board, "DIRECT_READ_MAX", 300 if request.param == "from the top" else 0)
    users = _members(api, 5)
    _public(api)
    return users


def test_pages_and_their_links(api, pages_of_two):
    first = _board(api)
    assert _board(api, f"/leaderboard/{G}?page=1").body == first.body
    one, two, three = (Page(_board(api, f"/leaderboard/{G}?page={n}").body) for n in (1, 2, 3))
    assert [r["rank"] for r in one.rows] == ["1", "2"]
    assert [r["rank"] for r in two.rows] == ["3", "4"]
    assert [r["rank"] for r in three.rows] == ["5"]
    assert [a["href"] for a in one.links if a.get("rel")] == [f"{G}?page=2"]
    assert [(a["rel"], a["href"]) for a in two.links if a.get("rel")] == [("prev", G), ("next", f"{G}?page=3")]
    assert [(a["rel"], a["href"]) for a in three.links if a.get("rel")] == [("prev", f"{G}?page=2")]
    assert "Page 2 of 3" in _board(api, f"/leaderboard/{G}?page=2").body
    assert two.title == "Pixel Crafters leaderboard · page 2"
    assert two.meta["og:url"] == f"http://localhost/leaderboard/{G}?page=2"


@pytest.mark.parametrize("raw", ["4", "0", "-1", "abc", "1.5", "", "2,3", "%201", "99999999", "1" * 400, "1e3"])
def test_out_of_range_and_malformed_pages_are_a_404_with_a_link_to_page_one(api, pages_of_two, raw):
    r = _board(api, f"/leaderboard/{G}?page={raw}")
    assert r.status == 404
    assert "Page not found" in r.body
    assert [a["href"] for a in Page(r.body).links] == [G]
    assert "noindex" in r.body
    assert r.headers["cache-control"] == "no-store"  # the page exists as soon as members fill it


def test_an_empty_public_board_has_a_first_page(api):
    _public(api)
    r = _board(api)
    assert r.status == 200
    assert "No one has earned XP here yet" in r.body
    assert _board(api, f"/leaderboard/{G}?page=2").status == 404


# ---------------------------------------------------------------- caching


def test_etag_and_304(api):
    _members(api, 2)
    _public(api)
    r = _board(api)
    etag = r.headers["etag"]
    assert etag == '"' + hashlib.sha256(r.body.encode()).hexdigest()[:32] + '"'
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = _board(api, **{"If-None-Match": sent})
        assert (again.status, again.body, again.headers["etag"]) == (304, None, etag)
        assert again.headers["cache-control"] == "public, max-age=60"
    assert _board(api, **{"If-None-Match": '"stale"'}).status == 200
    assert _board(api).headers["etag"] == etag  # same page, same tag
    api.put(f"/api/xp/users/{G}/{U[1]}", {"xp": 9000})
    assert _board(api, **{"If-None-Match": etag}).status == 200  # the ranking moved: a new page


def _head_and_get(api, target: str, headers: dict[str, str]) -> tuple:
    from local.server import HttpRequest

    sent = [("host", "localhost"), *headers.items()]
    head = api.api.handle(HttpRequest(method="HEAD", target=target, headers=sent))
    got = api.api.handle(HttpRequest(method="GET", target=target, headers=sent))
    return head, got


def test_head_answers_like_get_without_the_body(api):
    """HEAD: the GET's status and headers (Content-Length the GET's body length, not 0), no body: for a
    page, plain or gzipped, a 404, an out-of-range page and a 304."""
    _members(api, 3)
    _public(api)
    etag = _board(api).headers["etag"]
    cases = [
        (f"/leaderboard/{G}", {}),
        (f"/leaderboard/{G}", {"accept-encoding": "gzip"}),
        (f"/leaderboard/{OTHER}", {}),
        (f"/leaderboard/{G}?page=99", {}),
        (f"/leaderboard/{G}?page=abc", {"accept-encoding": "gzip"}),
        (f"/leaderboard/{G}", {"if-none-match": etag}),
    ]
    for target, headers in cases:
        head, got = _head_and_get(api, target, headers)
        assert (head.status, head.body) == (got.status, b""), (target, headers)
        expected = _without_request_id({k.lower(): v for k, v in got.headers})
        if got.status != 304:
            expected["content-length"] = str(len(got.body))
            assert len(got.body) > 0
        assert _without_request_id({k.lower(): v for k, v in head.headers}) == expected, (target, headers)


def test_gzip_when_the_client_takes_it(api):
    _members(api, 3)
    _public(api)
    plain = _board(api)
    packed = api.api.handle(_raw_get(f"/leaderboard/{G}", {"accept-encoding": "gzip, deflate, br"}))
    headers = {k.lower(): v for k, v in packed.headers}
    assert headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(packed.body).decode() == plain.body
    assert len(packed.body) < len(plain.body) / 2
    assert headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    again = api.api.handle(_raw_get(f"/leaderboard/{G}", {"accept-encoding": "gzip", "if-none-match": headers["etag"]}))
    assert again.status == 304
    refused = api.api.handle(_raw_get(f"/leaderboard/{G}", {"accept-encoding": "gzip;q=0, identity"}))
    assert refused.header("content-encoding") is None


def _raw_get(target: str, headers: dict[str, str]):
    from local.server import HttpRequest

    return HttpRequest(method="GET", target=target, headers=[("host", "localhost"), *headers.items()])


# ---------------------------------------------------------------- meta, robots, accent, CSP


def test_meta_tags_for_link_previews(api):
    users = _members(api, 4)
    for user, name in zip(users, ["Ana", "Ben", "Cy", "Dee"], strict=True):
        set_profile(G, user, display_name=name)
    _public(api)
    page = Page(_board(api).body)
    assert page.title == "Pixel Crafters leaderboard"
    assert page.meta["og:title"] == page.title
    levels = [DEFAULT_CURVE.level(xp) for xp in (5000, 4600, 4200)]
    assert page.meta["og:description"] == (
        f"Top members: 1. Ana (level {levels[0]}); 2. Ben (level {levels[1]}); 3. Cy (level {levels[2]})"
        " · 4 members ranked"
    )
    assert page.meta["og:image"] == f"http://localhost/cards/{G}/{users[0]}.png"
    assert page.meta["twitter:card"] == "summary_large_image"
    assert page.meta["theme-color"] == "#5865f2"


def test_public_base_url_makes_the_absolute_links(api, monkeypatch):
    users = _members(api, 1)
    _public(api)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://xp.example.com/")
    page = Page(_board(api).body)
    assert page.meta["og:image"] == f"https://xp.example.com/cards/{G}/{users[0]}.png"
    assert page.meta["og:url"] == f"https://xp.example.com/leaderboard/{G}"


def test_noindex_unless_the_guild_opts_in(api):
    _members(api, 1)
    _public(api)
    assert Page(_board(api).body).meta["robots"] == "noindex"
    _public(api, indexable=True)
    assert "robots" not in Page(_board(api).body).meta
    assert Page(_board(api, f"/leaderboard/{G}?page=9").body).meta["robots"] == "noindex"  # never index a 404


def test_the_accent_colour_is_the_guilds_when_valid(api):
    _members(api, 1)
    api.put(f"/api/xp/config/{G}", {"leaderboard": {"public": True}, "theme": {"embedColor": "#FF8800"}})
    page = Page(_board(api).body)
    assert page.meta["theme-color"] == "#ff8800"
    assert "--accent:#ff8800" in page.style


def test_a_stored_colour_that_is_not_rrggbb_never_reaches_the_css(api):
    """Config is validated on write, but the page trusts nothing it reads back."""
    from xpshop.service import curves
    from xpshop.store import keys
    from xpshop.store.table import table

    _members(api, 1)
    evil = "red;}body{display:none}"
    config = {"leaderboard": {"public": True}, "theme": {"embedColor": evil}}
    table().put_item(Item={**keys.guild_config(G), "config": json.dumps(config), "version": 9})
    curves.forget(G)
    r = _board(api)
    assert r.status == 200
    assert evil not in r.body
    assert Page(r.body).meta["theme-color"] == "#5865f2"


def test_csp_allows_no_script_and_only_the_inline_style_by_hash(api):
    _members(api, 1)
    _public(api)
    r = _board(api)
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
    digest = base64.b64encode(hashlib.sha256(Page(r.body).style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"


# ---------------------------------------------------------------- failures


def test_storage_trouble_is_a_503_page_and_a_bug_a_500_page(api, monkeypatch):
    from xpshop.errors import Unavailable
    from xpshop.service import board

    def busy(_):
        raise Unavailable()

    monkeypatch.setattr(board, "open_board", busy)
    r = _board(api)
    assert (r.status, r.headers["retry-after"], r.headers["cache-control"]) == (503, "5", "no-store")
    assert r.headers["content-type"] == "text/html; charset=utf-8"

    def broken(_):
        raise KeyError("bug")

    monkeypatch.setattr(board, "open_board", broken)
    r = _board(api)
    assert r.status == 500 and "Something went wrong" in r.body and "bug" not in r.body


# ---------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("raw", "page"),
    [(None, 1), ("1", 1), ("12", 12), ("9999999", 9999999), ("0", None), ("01", None), ("-1", None), ("", None),
     (" 1", None), ("1 ", None), ("１", None), ("10000000", None), ("2,3", None), ("1e3", None)],
)  # fmt: skip
def test_parse_page(raw, page):
    from xpshop.web.leaderboard import parse_page

    assert parse_page(raw) == page


@pytest.mark.parametrize(
    ("value", "colour"),
    [("#A1B2C3", "#a1b2c3"), ("#000000", "#000000"), ("#fff", "#5865f2"), ("red", "#5865f2"),
     ("#12345g", "#5865f2"), ("#123456\n", "#5865f2"), ("#123456;}", "#5865f2"), (None, "#5865f2"),
     (0xFF8800, "#5865f2")],
)  # fmt: skip
def test_accent_colour(value, colour):
    from xpshop.web.leaderboard import accent_colour

    assert accent_colour(value) == colour


def test_avatar_urls():
    from xpshop.web.leaderboard import avatar_url

    assert avatar_url(U[0], HASH) == f"https://cdn.discordapp.com/avatars/{U[0]}/{HASH}.png?size=64"
    assert avatar_url(U[0], "a_" + HASH).endswith(f"/a_{HASH}.png?size=64")
    for bad in (None, "", HASH.upper(), HASH + "0", "../" + HASH[3:], "x" * 32):
        # the default avatar: (id >> 22) % 6
        assert avatar_url("80351110224678912", bad) == "https://cdn.discordapp.com/embed/avatars/5.png"


@pytest.mark.parametrize(
    ("xp", "text"),
    [(0, "0"), (1234, "1,234"), (9_999_999, "9,999,999"), (12_345_678, "12.3M"), (999_999_999, "999.9M"),
     (1_000_000_000, "1B"), (45_600_000_000_000, "45.6T")],
)  # fmt: skip
def test_xp_text(xp, text):
    from xpshop.web.leaderboard import xp_text

    assert xp_text(xp) == text


@pytest.mark.parametrize(
    ("header", "ok"),
    [("gzip", True), ("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.8", True), ("gzip;q=0", False),
     ("*", True), ("identity", False), ("", False), (None, False), ("gzip;q=x", False)],
)  # fmt: skip
def test_accepts_gzip(header, ok):
    from xpshop.web.leaderboard import accepts_gzip

    assert accepts_gzip(header) is ok


# ---------------------------------------------------------------- the rate limit's refusal, as a page

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.fixture
def limit_of_one(api, monkeypatch):
    _public(api)
    _members(api, 1)
    monkeypatch.setenv("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "1")
    from tests.support.api_keys import away_from_window_end

    away_from_window_end()


def _from(address: str, method: str = "GET", target: str = f"/leaderboard/{G}", **headers: str):
    from local.server import HttpRequest

    return HttpRequest(
        method=method, target=target, headers=[("host", "localhost"), *headers.items()], source_ip=address
    )


def test_a_browser_over_the_limit_gets_a_page_not_json(api, limit_of_one):
    """A person who reloads the board too often saw raw JSON: the refusal is a page like the board's 404,
    with its Retry-After, kept by no cache."""
    assert api.api.handle(_from("198.51.100.1", accept=BROWSER)).status == 200
    refused = api.api.handle(_from("198.51.100.1", accept=BROWSER))
    assert refused.status == 429
    headers = {k.lower(): v for k, v in refused.headers}
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    assert int(headers["retry-after"]) >= 1
    assert headers["x-ratelimit-limit"] == "1" and headers["x-ratelimit-remaining"] == "0"
    assert (
        "script-src" not in headers["content-security-policy"]
        and "default-src 'none'" in headers["content-security-policy"]
    )
    assert "accept" in headers["vary"].lower()
    page = refused.body.decode()
    assert "Too many requests" in page and '<main class="missing">' in page
    not_found = _board(api, f"/leaderboard/{OTHER}")
    assert not_found.headers["content-security-policy"] == headers["content-security-policy"]  # the same look
    assert page.split("<main")[0].replace("Too many requests", "") == not_found.body.split("<main")[0].replace(
        "Leaderboard not found", ""
    )
    head = api.api.handle(_from("198.51.100.1", "HEAD", accept=BROWSER))
    assert head.status == 429 and head.header("content-type") == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/json, text/html;q=0.5", "text/html;q=0, */*"]
)
def test_a_client_that_does_not_prefer_html_keeps_the_json_refusal(api, limit_of_one, accept):
    headers = {"accept": accept} if accept else {}
    address = "198.51.100.2" if accept is None else f"198.51.100.{10 + len(accept)}"
    assert api.api.handle(_from(address, **headers)).status == 200
    refused = api.api.handle(_from(address, **headers))
    assert refused.status == 429
    assert refused.header("content-type") == "application/json" and refused.header("cache-control") == "no-store"
    assert json.loads(refused.body)["error"]["code"] == "RATE_LIMITED"
    assert int(refused.header("retry-after")) >= 1


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("TEXT/HTML; charset=utf-8", True),
        ("application/xhtml+xml", True),
        ("text/html, application/json", True),
        ("application/json;q=0.9, text/html", True),
        ("text/*", True),
        (None, False),
        ("", False),
        ("*/*", False),
        ("application/json", False),
        ("application/json, text/html;q=0.9", False),
        ("text/html;q=0", False),
        ("text/html;q=abc", False),
        ("image/png", False),
    ],
)
def test_prefers_html(accept, html):
    from xpshop.web.leaderboard import prefers_html

    assert prefers_html(accept) is html


# ---------------------------------------------------------------- a trailing slash, and paths below a board


def test_a_trailing_slash_redirects_to_the_board(api):
    """`/leaderboard/<g>/` got the API's JSON 404: it is a permanent redirect to the board (relative, so it
    works behind any base path), its query kept."""
    _public(api)
    _members(api, 1)
    for target, location in (
        (f"/leaderboard/{G}/", f"../{G}"),
        (f"/leaderboard/{G}/?page=2", f"../{G}?page=2"),
        (f"/leaderboard/{OTHER}/", f"../{OTHER}"),  # no read: an unknown guild is redirected the same way
    ):
        r = _board(api, target)
        assert (r.status, r.headers["location"]) == (301, location), target
        assert r.headers["cache-control"] == "public, max-age=86400"
        assert r.headers["content-type"] == "text/html; charset=utf-8"
    head = api.request("HEAD", f"/leaderboard/{G}/", key=None)
    assert (head.status, head.headers["location"]) == (301, f"../{G}")


@pytest.mark.parametrize(
    "target",
    [
        "/leaderboard",
        "/leaderboard?page=2",
        f"/leaderboard/{G}/x",
        f"/leaderboard/{G}//",
        f"/leaderboard/{G}/1/",
        "/leaderboard/abc/",
        "/leaderboard/%3Cb%3E/",
    ],
)
def test_other_paths_below_a_board_get_the_boards_404(api, target):
    _public(api)
    expected = _board(api, f"/leaderboard/{OTHER}")
    r = _board(api, target)
    assert (r.status, r.body) == (404, expected.body)
    assert _without_request_id(r.headers) == _without_request_id(expected.headers)


# ---------------------------------------------------------------- other methods, and `/leaderboard/`


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("target", [f"/leaderboard/{G}", f"/leaderboard/{OTHER}", f"/leaderboard/{G}/"])
def test_other_methods_on_a_board_get_405_naming_get_and_head(api, method, target):
    """A board's address answers GET and HEAD; any other method got the API's JSON 404. It is a 405 page
    (the same for a public board, a private or unknown one, and the trailing-slash address) with Allow."""
    _public(api)
    _members(api, 1)
    r = api.request(method, target, {"a": 1} if method != "OPTIONS" else None, key=None)
    assert r.status == 405, (r.status, r.body)
    assert r.headers["allow"] == "GET, HEAD"
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-store"
    assert "Method not allowed" in r.body and "apigw" not in r.body
    same = api.request(method, f"/leaderboard/{OTHER}", key=None)
    assert (same.body, _without_request_id(same.headers)) == (r.body, _without_request_id(r.headers))
    assert _board(api).status == 200  # nothing changed


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "DELETE"])
@pytest.mark.parametrize(
    "target", ["/leaderboard/", "/leaderboard/?page=2", "/leaderboard", f"/leaderboard/{G}/x", "/leaderboard//"]
)
def test_paths_that_are_no_board_get_the_boards_404_for_every_method(api, method, target):
    """`/leaderboard/` went to the API's catch-all (`/leaderboard/{proxy+}` needs a character after the slash):
    its JSON 404. It, and any method on a path that is no board, get the board's own 404 page."""
    _public(api)
    expected = _board(api, f"/leaderboard/{OTHER}")
    r = api.request(method, target, key=None)
    assert r.status == 404, (r.status, r.body)
    if method != "HEAD":
        assert r.body == expected.body
    assert _without_request_id(r.headers) == {
        **_without_request_id(expected.headers),
        **({"content-length": r.headers["content-length"]} if "content-length" in r.headers else {}),
    }
