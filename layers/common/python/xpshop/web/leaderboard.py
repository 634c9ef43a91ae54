"""GET/HEAD /leaderboard/{guildId}[?page=N]: the public web leaderboard, server-rendered HTML.

No JavaScript at all: Discord's link-preview crawler runs none, and the page must read the same without it.
Jinja2 with autoescape renders every text (names are untrusted); the templates are compiled once per
container. A private guild, an unknown one and a malformed id get the very same 404 (status, headers and
bytes), so nothing tells them apart. Styles are inline and allowed by their hash in the CSP, which allows no
script at all.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ..service import board as boards
from ..store.table import is_transient
from . import urls

logger = Logger(child=True)

DEFAULT_ACCENT = "#5865f2"  # Discord's blurple, when a guild sets no theme.embedColor
CDN = "https://cdn.discordapp.com"
CACHE_CONTROL = "public, max-age=60"  # short: ranks move; long enough to absorb a link pasted in a busy channel
# Every other answer (the 404s, 503, 500) is kept by no cache: a private board's 404 is the unknown guild's,
# and making the board public must show at once, not after a cached 404 expires.
UNCACHED = "no-store"
GZIP_FROM = 1024  # bytes; smaller pages go as they are
NAME_MAX = 80  # names are length-capped when written; this only bounds what one row may take on screen
HIDDEN_NAME = "Hidden member"
UNNAMED = "Unnamed member"  # a member seen before display names were kept (never their id)

_ACCENT = re.compile(r"#[0-9A-Fa-f]{6}")
_AVATAR_HASH = re.compile(r"(a_)?[0-9a-f]{32}")  # anything else in the field never reaches a URL
_PAGE = re.compile(r"[1-9][0-9]{0,6}")
_REDIRECTED = re.compile(r"[0-9]{1,40}")  # what a trailing slash is redirected for: an id, never other text

_env = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=True,
    undefined=StrictUndefined,  # a missing variable is a bug, not an empty string
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # compiled once per container: no stat() of the template files per request
)
_BOARD = _env.get_template("leaderboard.html")
_MESSAGE = _env.get_template("message.html")
_CSS = _env.get_template("board.css")


@dataclass(frozen=True, slots=True)
class Rendered:
    status: int
    html: str
    csp: str


# ---------------------------------------------------------------- pure helpers


def accent_colour(value: Any) -> str:
    """`#rrggbb` from the guild's theme when it is one, else the default: it goes into CSS unescaped."""
    return value.lower() if isinstance(value, str) and _ACCENT.fullmatch(value) else DEFAULT_ACCENT


def _text_on(accent: str) -> str:
    """Black or white, whichever reads better on the accent (WCAG relative luminance)."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(accent[i : i + 2]) for i in (1, 3, 5))
    return "#111111" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.36 else "#ffffff"


def avatar_url(user_id: str, avatar_hash: str | None) -> str:
    """The member's avatar on Discord's CDN, or Discord's default avatar for their id."""
    if avatar_hash and _AVATAR_HASH.fullmatch(avatar_hash):
        return f"{CDN}/avatars/{user_id}/{avatar_hash}.png?size=64"
    return f"{CDN}/embed/avatars/{(int(user_id) >> 22) % 6}.png"


def parse_page(raw: str | None) -> int | None:
    """`?page=` as a 1-based number; absent means 1; anything else (0, -1, 1.5, 2,3, huge) is None."""
    if raw is None:
        return 1
    return int(raw) if _PAGE.fullmatch(raw) else None


def xp_text(xp: int) -> str:
    """12,345 in full; from ten million on, compact (12.3M) so the column fits a 360 px screen."""
    if xp < 10_000_000:
        return f"{xp:,}"
    for unit, size in (("T", 10**12), ("B", 10**9), ("M", 10**6)):
        if xp >= size:
            return f"{math.floor(xp / size * 10) / 10:g}{unit}"
    return f"{xp:,}"  # pragma: no cover - the loop always answers from ten million on


def _initials(name: str) -> str:
    """Up to two letters for the badge where Discord would show the server's icon (none is stored)."""
    letters = [w[0] for w in name.split() if w[0].isalnum()]
    return "".join(letters[:2]).upper() or "#"


def _clip(text: str | None) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())  # newlines and runs of spaces would break the row
    return text if len(text) <= NAME_MAX else text[: NAME_MAX - 1] + "…"


@functools.lru_cache(maxsize=128)
def _style(accent: str) -> tuple[Markup, str]:
    """The inline CSS for an accent and its CSP source (a hash: no 'unsafe-inline')."""
    css = _CSS.render(accent=accent, on_accent=_text_on(accent)).strip()
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return Markup(css), f"'sha256-{digest}'"  # our template and a validated colour


def _csp(style_source: str) -> str:
    # No script source at all; images only from Discord's CDN (avatars) and data: (the favicon).
    return f"default-src 'none'; img-src {CDN} data:; style-src {style_source}; base-uri 'none'; form-action 'none'"


def _favicon(accent: str) -> str:
    return (
        "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
        f"%3Ccircle cx='8' cy='8' r='8' fill='%23{accent[1:]}'/%3E%3C/svg%3E"
    )


def _chrome(accent: str, title: str, indexable: bool) -> dict[str, Any]:
    css, _ = _style(accent)
    return {"accent": accent, "css": css, "favicon": _favicon(accent), "title": title, "indexable": indexable}


# ---------------------------------------------------------------- pages


def _message(
    accent: str, status: int, heading: str, lines: list[str], *, title: str | None = None, link: Any = None
) -> Rendered:
    html = _MESSAGE.render(**_chrome(accent, title or heading, False), heading=heading, lines=lines, link=link)
    return Rendered(status, html, _csp(_style(accent)[1]))


@functools.cache
def not_found() -> Rendered:
    """The one 404 for malformed ids, unknown guilds and private boards: nothing in it depends on the request."""
    return _message(
        DEFAULT_ACCENT,
        404,
        "Leaderboard not found",
        ["There is no public leaderboard here. A server's admins choose whether theirs is public."],
    )


def _guild_name(board: boards.Board) -> str:
    return _clip(board.name) or "Discord server"


def _no_such_page(board: boards.Board, asked: int | None) -> Rendered:
    name = _guild_name(board)
    first = f"This leaderboard has no page {asked:,}." if asked else "That is not a page of this leaderboard."
    link = {"href": board.guild_id, "text": f"Go to page 1 of the {name} leaderboard"}  # relative: /leaderboard/<g>
    title = f"{name} leaderboard: no such page"
    return _message(accent_colour(board.accent), 404, "Page not found", [first], title=title, link=link)


def _row_view(board: boards.Board, row: boards.Row, label: str) -> dict[str, Any]:
    p = row.progress
    span = p.in_level + p.to_next
    percent = math.floor(p.in_level * 100 / span) if span else 0
    view: dict[str, Any] = {
        "rank": row.rank,
        "level": p.level,
        "xp": row.xp,
        "xp_text": xp_text(row.xp),
        "in_level": p.in_level,
        "span": span,
        "percent": percent,
        "next_level": p.level + 1,
        "progress_label": f"{p.in_level:,} of {span:,} {label} to level {p.level + 1}",
    }
    podium = f"r{row.rank}" if row.rank <= 3 else ""
    if row.hidden or row.user_id is None:
        return view | {
            "name": HIDDEN_NAME,
            "unnamed": False,
            "avatar_url": None,
            "avatar_alt": "No avatar shown",
            "card_url": None,
            "user_id": None,
            "classes": f"{podium} hidden".strip(),
        }
    name = _clip(row.display_name) or _clip(row.username)
    shown = name or UNNAMED
    return view | {
        "name": shown,
        "unnamed": name is None,
        "avatar_url": avatar_url(row.user_id, row.avatar),
        "avatar_alt": f"Avatar of {shown}",
        # relative to /leaderboard/<g>, so the link works behind any base path
        "card_url": ".." + urls.card_path(board.guild_id, row.user_id),
        "user_id": row.user_id,
        "classes": podium,
    }


def _page_href(guild_id: str, number: int) -> str:
    return guild_id if number == 1 else f"{guild_id}?page={number}"


def render_board(board: boards.Board, page: boards.Page, base: str) -> Rendered:
    accent = accent_colour(board.accent)
    name = _guild_name(board)
    label = _clip((board.config.get("labels") or {}).get("xpDisplayName")) or "XP"
    rows = [_row_view(board, r, label) for r in page.rows]
    n = page.number
    title = f"{name} leaderboard" + (f" · page {n}" if n > 1 else "")
    members_text = f"{page.total:,} member" + ("" if page.total == 1 else "s")
    if rows:
        first, last = rows[0]["rank"], rows[-1]["rank"]
        caption = f"Ranks {first:,}–{last:,} of {page.total:,}, by {label}"
        lead = "; ".join(f"{r['rank']}. {r['name']} (level {r['level']})" for r in rows[:3])
        description = f"{'Top members' if n == 1 else f'Ranks {first:,}–{last:,}'}: {lead} · {members_text} ranked"
    else:
        caption = "No members ranked yet"
        description = f"The {label} leaderboard of {name}: no one has earned {label} yet."
    top = next((r for r in rows if r["user_id"]), None)
    image = None
    if top is not None:
        image = {"url": base + urls.card_path(board.guild_id, top["user_id"]), "alt": f"Rank card of {top['name']}"}
    html = _BOARD.render(
        **_chrome(accent, title, board.indexable),
        description=description,
        page_url=base + urls.leaderboard_path(board.guild_id, n),
        image=image,
        guild_name=name,
        initials=_initials(name),
        members_text=members_text,
        caption=caption,
        xp_label=label,
        rows=rows,
        number=n,
        pages=page.pages,
        pages_text=f"{page.pages:,}",
        prev_url=_page_href(board.guild_id, n - 1) if n > 1 else None,
        next_url=_page_href(board.guild_id, n + 1) if n < page.pages else None,
    )
    return Rendered(200, html, _csp(_style(accent)[1]))


def _below_board(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """A path below a board (the `/leaderboard/{proxy+}` route). `/leaderboard/<g>/` is a 301 to
    `/leaderboard/<g>` (query kept; a relative Location, so it works behind any base path; nothing read, so
    an unknown guild is redirected as a known one is); None for anything else (the board's 404)."""
    below = (event.get("pathParameters") or {}).get("proxy")
    if below is None:
        return None
    guild_id = below[:-1] if below.endswith("/") else ""
    if not _REDIRECTED.fullmatch(guild_id):
        return None
    query = event.get("rawQueryString") or ""
    return {
        "statusCode": 301,
        "headers": {
            "Location": f"../{guild_id}" + (f"?{query}" if query else ""),
            "Cache-Control": "public, max-age=86400",  # the board's URL never changes
            "Content-Type": "text/html; charset=utf-8",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
        "body": "",
    }


def render(event: Mapping[str, Any]) -> Rendered:
    """The page for a request (reads the table; raises on storage failures)."""
    if "proxy" in (event.get("pathParameters") or {}):
        return not_found()  # below a board, and not the trailing slash (_below_board)
    guild_id = str((event.get("pathParameters") or {}).get("guildId") or "")
    board = boards.open_board(guild_id)
    if board is None:
        return not_found()
    raw = (event.get("queryStringParameters") or {}).get("page")
    number = parse_page(raw)
    page = boards.page(board, number) if number is not None else None
    if number is None or page is None:
        return _no_such_page(board, number)
    return render_board(board, page, urls.base_url(event))


# ---------------------------------------------------------------- HTTP


def etag_of(body: bytes) -> str:
    """A strong ETag of the page's bytes (the gzip form gets its own: other bytes, other tag)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _gzip_tag(etag: str) -> str:
    return etag[:-1] + '-gzip"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (W/"x" matches "x"); either form's tag names the same page."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return bool(tags & {"*", etag, _gzip_tag(etag)})


def accepts_gzip(accept_encoding: str | None) -> bool:
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().lower().removeprefix("q=")
            try:
                return not q or float(q) > 0
            except ValueError:
                return False
    return False


def _accept_q(accept: str, *ranges: str) -> tuple[float, bool]:
    """(the q the Accept header gives the first of `ranges` it lists, whether that is the first: the exact
    type): the most specific range listed wins (RFC 9110 12.5.1); none listed: 0."""
    listed: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip().lower() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = min(1.0, max(0.0, float(value)))
                except ValueError:
                    q = 0.0  # a q that is not a number accepts nothing
        if media:
            listed.setdefault(media, q)
    for index, media in enumerate(ranges):
        if media in listed:
            return listed[media], index == 0
    return 0.0, False


def prefers_html(accept: str | None) -> bool:
    """Whether a client takes an HTML page over JSON: text/html (or XHTML) ranked above application/json, or
    named as highly. A client that says nothing or `*/*` (curl, scripts, monitors) keeps the API's JSON."""
    if not accept:
        return False
    html, named = max(
        _accept_q(accept, "text/html", "text/*", "*/*"),
        _accept_q(accept, "application/xhtml+xml", "application/*", "*/*"),
    )
    json_q, _ = _accept_q(accept, "application/json", "application/*", "*/*")
    return html > 0 and (html > json_q or (html == json_q and named))


def too_many_requests() -> Rendered:
    """The rate limit's refusal as a page (a browser reloading the board too often), the 404's look."""
    return _message(
        DEFAULT_ACCENT,
        429,
        "Too many requests",
        ["This address has asked for leaderboard pages too often. Wait a moment, then reload the page."],
    )


def rate_limited(event: Mapping[str, Any], status: int, headers: Mapping[str, str]) -> dict[str, Any] | None:
    """The limiter's refusal for a client that prefers HTML (None: the API's JSON refusal is answered):
    `headers` (Retry-After, X-RateLimit-*) kept; no cache keeps it."""
    if not prefers_html(_headers(event).get("accept")):
        return None
    page = too_many_requests()
    return {
        "statusCode": status,
        "headers": {**_page_headers(page, UNCACHED), "Vary": "Accept, Accept-Encoding", **headers},
        "body": page.html,
    }


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def _page_headers(page: Rendered, cache: str) -> dict[str, str]:
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": cache,
        "Content-Security-Policy": page.csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Vary": "Accept-Encoding",
    }


# What a board's address answers (its routes take ANY method, so the others get our 405, not API Gateway's 404).
ALLOWED_METHODS = ("GET", "HEAD")


@functools.cache
def not_allowed() -> Rendered:
    """The 405 for any other method on a board's address: nothing in it depends on the request (or the board)."""
    return _message(
        DEFAULT_ACCENT,
        405,
        "Method not allowed",
        ["A leaderboard can only be viewed: open it in a browser (GET or HEAD)."],
    )


def _method(event: Mapping[str, Any]) -> str:
    return str(((event.get("requestContext") or {}).get("http") or {}).get("method") or "GET").upper()


def _is_board_address(event: Mapping[str, Any]) -> bool:
    """`/leaderboard/<g>` or `/leaderboard/<g>/` (the redirect), whatever `<g>` is: a private, unknown and
    public board answer other methods alike. Anything else under /leaderboard is the board's 404."""
    return "guildId" in (event.get("pathParameters") or {}) or _below_board(event) is not None


def respond(event: Mapping[str, Any]) -> dict[str, Any]:
    """The API Gateway (payload 2.0) answer, to GET and HEAD alike (any other method: a 405 on a board's
    address, else the 404 page). Never lets an exception out: storage trouble is a 503 page."""
    headers = _headers(event)
    if _method(event) not in ALLOWED_METHODS:
        if not _is_board_address(event):
            return _answer(not_found(), headers)  # nothing is read: no method reaches the table
        return {
            "statusCode": 405,
            "headers": {**_page_headers(not_allowed(), UNCACHED), "Allow": ", ".join(ALLOWED_METHODS)},
            "body": not_allowed().html,
        }
    redirect = _below_board(event)
    if redirect is not None:
        return redirect
    try:
        page = render(event)
    except Exception as exc:
        page = _failure(exc)
    return _answer(page, headers)


def outside_boards(event: Mapping[str, Any]) -> dict[str, Any]:
    """`/leaderboard/` (no guild id), which API Gateway routes to the API's catch-all (`/leaderboard/{proxy+}`
    needs a character after the slash, and a route may not end in one): the board's 404 page, any method."""
    return _answer(not_found(), _headers(event))


def _answer(page: Rendered, headers: Mapping[str, str]) -> dict[str, Any]:
    """A rendered page as the API Gateway answer: cache headers, ETag/304, gzip when asked."""
    cache = CACHE_CONTROL if page.status == 200 else UNCACHED
    body = page.html.encode()
    # API Gateway HTTP APIs do not compress: 100 rows are ~70 KB of HTML and ~6 KB gzipped.
    gzipped = accepts_gzip(headers.get("accept-encoding")) and len(body) > GZIP_FROM
    out = _page_headers(page, cache)
    if page.status == 503:
        out["Retry-After"] = "5"
    if page.status == 200:
        etag = etag_of(body)
        out["ETag"] = _gzip_tag(etag) if gzipped else etag
        if _matches(headers.get("if-none-match"), etag):
            return {"statusCode": 304, "headers": {k: out[k] for k in ("ETag", "Cache-Control", "Vary")}, "body": ""}
    # HEAD gets the GET's answer too: API Gateway sends its headers only, with the Content-Length of this
    # body (an empty body here would announce Content-Length: 0)
    if gzipped:
        out["Content-Encoding"] = "gzip"
        packed = gzip.compress(body, compresslevel=6, mtime=0)  # mtime 0: the same page, the same bytes
        return {
            "statusCode": page.status,
            "headers": out,
            "body": base64.b64encode(packed).decode("ascii"),
            "isBase64Encoded": True,
        }
    return {"statusCode": page.status, "headers": out, "body": page.html}


def _failure(exc: Exception) -> Rendered:
    if is_transient(exc):
        logger.warning("leaderboard page: storage unavailable", exc_info=exc)
        return _message(DEFAULT_ACCENT, 503, "Busy", ["The leaderboard is busy right now: try again shortly."])
    logger.exception("leaderboard page failed")  # a bug: the request itself cannot cause this
    return _message(DEFAULT_ACCENT, 500, "Something went wrong", ["Try again later."])
