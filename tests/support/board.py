"""Helpers for the web leaderboard's tests: members' display data written straight on their items (as the
relay and interactions record it), and a small HTML reader for what a page shows."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

VOID = {"meta", "link", "img", "col", "br", "hr", "input", "source"}
PROFILE_FIELDS = {"display_name": "displayName", "username": "username", "avatar": "avatar", "hidden": "hidden"}


def set_profile(guild_id: str, user_id: str, table: Any = None, **fields: Any) -> None:
    """Set display_name / username / avatar / hidden on an existing member item."""
    from xpshop.store import keys

    if table is None:
        from xpshop.store.table import table as store_table

        table = store_table()
    names = {f"#{k}": PROFILE_FIELDS[k] for k in fields}
    values = {f":{k}": v for k, v in fields.items()}
    table.update_item(
        Key=keys.member(guild_id, user_id),
        UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


class Page(HTMLParser):
    """The parts of a board page the tests look at: rows (rank, name, level, xp), links, meta tags, style."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict[str, str]] = []
        self.links: list[dict[str, str]] = []
        self.meta: dict[str, str] = {}
        self.images: list[dict[str, str]] = []
        self.style = ""
        self.title = ""
        self.scripts = 0
        self._cell: str | None = None
        self._in: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag not in VOID:
            self._in.append(tag)
        if tag == "script":
            self.scripts += 1
        elif tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        elif tag == "a":
            self.links.append(a)
        elif tag == "img":
            self.images.append(a)
        elif tag == "tr" and "tbody" in self._in:
            self.rows.append({"rank": "", "name": "", "level": "", "xp": "", "class": a.get("class", "")})
        elif tag in ("td", "th") and self.rows and "tbody" in self._in:
            self._cell = {"rank": "rank", "level": "level", "xp": "xp"}.get(a.get("class", ""))
        elif tag == "span" and a.get("class", "").startswith("name") and self.rows:
            self._cell = "name"
        elif tag == "div" and a.get("class") == "bar":
            self._cell = None

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            while self._in and self._in.pop() != tag:
                pass
        if tag in ("td", "th", "span"):
            self._cell = None

    def handle_data(self, data: str) -> None:
        if "style" in self._in:
            self.style += data
        elif self._in and self._in[-1] == "title":
            self.title += data
        elif self._cell and self.rows:
            self.rows[-1][self._cell] += data.strip()
