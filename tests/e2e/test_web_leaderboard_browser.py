"""The web leaderboard in a real browser: Debian's Chromium driven by playwright-python against `make dev`.

Checked with JavaScript on and off: rows in order, page links that work, no console errors (CSP violations
included), a hidden member with no name, no horizontal scrolling at 360 px, the dark scheme. Screenshots at
1280x800 and 390x844 (and a dark one) go to .artifacts/e2e/ (XPSHOP_ARTIFACTS_DIR); with
XPSHOP_UPDATE_SCREENSHOTS=1 the first two are also written to docs/img/ (leaderboard.png,
leaderboard-mobile.png) for the README.

Discord's CDN is not reached: avatar requests are answered by the test with generated PNGs, so the page
looks real and the run needs no network.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from local import REPO_ROOT
from tests.e2e.conftest import E2E_KEY, E2E_TABLE, Stack
from tests.support.storage import new_guild_id

CHROMIUM = Path(os.environ.get("XPSHOP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("XPSHOP_ARTIFACTS_DIR", REPO_ROOT / ".artifacts" / "e2e"))
DOCS_IMG = REPO_ROOT / "docs" / "img"
ADMIN = {"Authorization": f"Bearer {E2E_KEY}"}

G = "987654321098765432"
MEMBERS = 230
FIRST_USER = 700_000_000_000_000_000
HIDDEN_AT = 2  # the member ranked second hides
HIDDEN_NAME = "Secret Sam"
NAMES = [
    "Aurora", "kai.exe", "Mika ✿", "Bartholomew the Builder", "Léa", "Дмитрий", "Σοφία", "ReDstone_Rex",
    "Noor", "Yuki ❄", "Tomasz", "Ava", "creeperhugger", "Olu", "Ingrid", "Mateo", "Priya", "Zed", "Hana",
    "Finn", "Chloé", "Ragnar", "Ines", "Jun", "Leo", "Maya", "Nico", "Omar", "Pia", "Quinn",
]  # fmt: skip


def _user(n: int) -> str:
    return str(FIRST_USER + n * 1_234_567_891)


def _xp(n: int) -> int:
    # a long tail, like a real community: a few with a lot, most with a little; distinct and descending
    return int(180_000 / (1 + n) ** 1.15) + (MEMBERS - n) * 3


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian's `chromium` package; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright-python is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def board(stack: Stack) -> str:
    """`make dev` with a public guild of MEMBERS members, their names and avatars; the board's URL."""
    _load(stack.url, stack.ddb_port)
    return f"{stack.url}/leaderboard/{G}"


def _load(url: str, ddb_port: int) -> None:
    import boto3

    s = requests.Session()
    s.headers.update(ADMIN)
    assert s.put(f"{url}/api/xp/guilds/{G}", json={"name": "Pixel Crafters"}, timeout=30).status_code == 201
    config = {"leaderboard": {"public": True}, "theme": {"embedColor": "#E67E22"}}
    assert s.put(f"{url}/api/xp/config/{G}", json=config, timeout=30).status_code == 200

    def put(n: int) -> None:
        r = s.put(f"{url}/api/xp/users/{G}/{_user(n)}", json={"xp": _xp(n)}, timeout=30)
        assert r.status_code == 200, r.text

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(put, range(MEMBERS)))
    # Display data as the relay and interactions record it on the member items.
    table = boto3.resource("dynamodb", endpoint_url=f"http://127.0.0.1:{ddb_port}").Table(E2E_TABLE)
    from tests.support.board import set_profile

    rng = random.Random(7)
    for n in range(MEMBERS):
        fields: dict[str, Any] = {"username": f"member{n}"}
        if n < len(NAMES) or n % 3:
            fields["display_name"] = NAMES[n % len(NAMES)] + ("" if n < len(NAMES) else f" {n}")
        if n % 4 != 3:  # every fourth keeps Discord's default avatar
            fields["avatar"] = f"{rng.getrandbits(128):032x}"
        if n == HIDDEN_AT - 1:
            fields.update(display_name=HIDDEN_NAME, username="secret.sam", hidden=True)
        if n == 7:
            fields["display_name"] = '<script>alert("pwned")</script>'
        set_profile(G, _user(n), table=table, **fields)
    # The total comes from the rank counters, which follow the table's stream: wait until they count everyone.
    for _ in range(150):
        if s.get(f"{url}/api/xp/leaderboard/{G}?limit=1", timeout=30).json()["data"]["total"] == MEMBERS:
            return
        import time

        time.sleep(0.2)
    raise AssertionError("the rank counters never counted every member")


def _avatar_png(url: str) -> bytes:
    """A generated avatar per URL: a coloured disc on a tinted square (Discord's CDN is not reached)."""
    from PIL import Image, ImageDraw

    digest = hashlib.sha256(url.encode()).digest()
    colour = tuple(64 + b % 160 for b in digest[:3])
    image = Image.new("RGB", (64, 64), tuple(min(255, c + 60) for c in colour))
    draw = ImageDraw.Draw(image)
    draw.ellipse((14 + digest[3] % 8, 10, 50 - digest[4] % 8, 46), fill=colour)
    draw.rectangle((8, 44, 56, 64), fill=tuple(max(0, c - 40) for c in colour))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class Tab:
    """A page in a fresh browser context, with the console errors it logged."""

    def __init__(self, chromium: Any, **context: Any) -> None:
        self.context = chromium.new_context(**context)
        self.context.route(
            "https://cdn.discordapp.com/**",
            lambda route: route.fulfill(status=200, content_type="image/png", body=_avatar_png(route.request.url)),
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.dialogs: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def open(self, url: str) -> Any:
        response = self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return response

    def ranks(self) -> list[int]:
        return [int(t) for t in self.page.locator("tbody td.rank").all_inner_texts()]

    def names(self) -> list[str]:
        return [t.strip() for t in self.page.locator("tbody .name").all_inner_texts()]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(chromium: Any) -> Iterator[Tab]:
    t = Tab(chromium, viewport={"width": 1280, "height": 800})
    yield t
    t.close()


@pytest.fixture
def tab_without_js(chromium: Any) -> Iterator[Tab]:
    t = Tab(chromium, viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    yield t
    t.close()


def _expected_name(n: int) -> str:
    if n == HIDDEN_AT - 1:
        return "Hidden member"
    if n == 7:
        return '<script>alert("pwned")</script>'
    if n < len(NAMES) or n % 3:
        return NAMES[n % len(NAMES)] + ("" if n < len(NAMES) else f" {n}")
    return f"member{n}"


def _save(tab: Tab, name: str, *, publish: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    tab.page.screenshot(path=str(path))
    if publish and os.environ.get("XPSHOP_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG / name)
    return path


def test_rows_in_order_with_names_and_no_console_errors(board, tab):
    response = tab.open(board)
    assert response.status == 200
    assert tab.ranks() == list(range(1, 101))
    assert tab.names() == [_expected_name(n) for n in range(100)]
    assert tab.page.title() == "Pixel Crafters leaderboard"
    assert tab.page.locator("h1").inner_text() == "Pixel Crafters"
    assert tab.page.locator("caption").inner_text().startswith(f"Ranks 1–100 of {MEMBERS}")
    # the avatars on screen loaded (CSP allows Discord's CDN); none is broken (lazy ones load on scrolling)
    counts = "imgs => [imgs.filter(i => i.complete && i.naturalWidth > 0).length,"
    counts += " imgs.filter(i => i.complete && i.naturalWidth === 0).length]"
    loaded, broken = tab.page.eval_on_selector_all("img.avatar", counts)
    assert loaded >= 10 and broken == 0
    assert tab.errors == [] and tab.dialogs == []  # the member named <script> is text, nothing ran
    shot = _save(tab, "leaderboard.png")
    assert shot.stat().st_size > 10_000


def test_page_links_work_without_javascript(board, tab_without_js):
    t = tab_without_js
    t.open(board)
    assert t.ranks()[:3] == [1, 2, 3]
    t.page.get_by_role("link", name="Next →").click()
    t.page.wait_for_load_state("load")
    assert t.page.url.endswith(f"/leaderboard/{G}?page=2")
    assert t.ranks() == list(range(101, 201))
    assert t.names()[:3] == [_expected_name(n) for n in range(100, 103)]
    t.page.get_by_role("link", name="Next →").click()
    t.page.wait_for_load_state("load")
    assert t.ranks() == list(range(201, MEMBERS + 1))
    assert t.page.get_by_role("link", name="Next →").count() == 0  # the last page
    t.page.get_by_role("link", name="← Previous").click()
    t.page.get_by_role("link", name="← Previous").click()
    t.page.wait_for_load_state("load")
    assert t.page.url.endswith(f"/leaderboard/{G}")
    assert t.ranks()[:3] == [1, 2, 3]
    assert t.errors == []


def test_a_hidden_member_shows_no_name_or_id(board, tab_without_js):
    t = tab_without_js
    t.open(board)
    row = t.page.locator("tbody tr").nth(HIDDEN_AT - 1)
    assert row.locator("td.rank").inner_text() == str(HIDDEN_AT)
    assert row.locator(".name").inner_text() == "Hidden member"
    assert row.locator("img").count() == 0
    html = t.page.content()
    assert HIDDEN_NAME not in html and "secret.sam" not in html and _user(HIDDEN_AT - 1) not in html


def test_a_page_out_of_range_links_back_to_page_one(board, tab_without_js):
    t = tab_without_js
    response = t.open(f"{board}?page=40")
    assert response.status == 404
    t.page.get_by_role("link", name="Go to page 1 of the Pixel Crafters leaderboard").click()
    t.page.wait_for_load_state("load")
    assert t.page.url.endswith(f"/leaderboard/{G}") and t.ranks()[0] == 1


def test_phone_sizes_need_no_sideways_scrolling(board, chromium):
    phone = Tab(chromium, viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        phone.open(board)
        assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
        _save(phone, "leaderboard-mobile.png")
        phone.page.set_viewport_size({"width": 360, "height": 740})
        assert phone.page.evaluate("document.documentElement.scrollWidth") <= 360
        assert phone.errors == []
    finally:
        phone.close()


def test_dark_scheme(board, chromium):
    dark = Tab(chromium, viewport={"width": 1280, "height": 800}, color_scheme="dark")
    try:
        dark.open(board)
        background = dark.page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(17, 18, 21)"
        _save(dark, "leaderboard-dark.png", publish=False)
    finally:
        dark.close()


def test_http_caching_through_the_local_server(board):
    """What a browser or Discord's crawler gets over the wire from `make dev`: gzip, ETag, 304, HEAD."""
    first = requests.get(board, timeout=30)  # requests asks for gzip and unpacks it
    assert first.status_code == 200 and first.headers["content-encoding"] == "gzip"
    assert first.headers["content-type"] == "text/html; charset=utf-8"
    etag = first.headers["etag"]
    again = requests.get(board, headers={"If-None-Match": etag}, timeout=30)
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    head = requests.head(board, timeout=30)
    assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", etag)
    assert head.headers["content-length"] == first.headers["content-length"] != "0"  # the GET's (gzipped) length
    plain = requests.get(board, headers={"Accept-Encoding": "identity"}, timeout=30)
    assert plain.text == first.text and "content-encoding" not in plain.headers
    # a guild nobody registered (other modules share this server: a fixed id may be theirs)
    assert requests.get(board.replace(G, new_guild_id()), timeout=30).status_code == 404
