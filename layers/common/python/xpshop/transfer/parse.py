"""Import files, detected by Content-Type and shape, read into rows (valid or rejected with a reason) and role
rewards.

Accepted bodies (UTF-8, with or without a BOM; UTF-16 with its BOM; a declared `charset`; a CSV that is not
UTF-8 is read as Windows-1252, see `_decode`; gzip-compressed when `Content-Encoding: gzip` says so or the
bytes start with gzip's magic number):

- JSON, a list of rows: `[{"id": "<snowflake>", "xp": <int>, "messages": <int, optional>}, ...]`;
- JSON, a MEE6 leaderboard page `{"players": [{"id", "xp", "message_count"?}, ...], "role_rewards": [{"rank":
  <level>, "role": {"id": "<snowflake>"}}, ...]}` (what `mee6.xyz/api/plugins/levels/leaderboard/<guild>`
  answers), or a list of such pages;
- JSON, an xpshop export part `{"members": [{"id", "xp", "level", "messages"}], "next": ...}` (or the API's
  envelope around it, `{"success": true, "data": {...}}`), or a list of parts;
- JSON, a Lurkr leveling backup `{"levels": [{"userId", "xp", "messageCount", ...}]}`;
- CSV with a header row naming `id` and `xp` (and optionally `messages`), in any order, separated by commas,
  semicolons or tabs (or what an Excel `sep=X` first line names), fields quoted or not; other columns are
  ignored.

Row numbers in answers: JSON lists and MEE6 players count from 1 in file order (across pages); CSV rows are
the line number in the file, the header being line 1 (what a spreadsheet shows).

A body that cannot be read at all is refused as a whole (400 naming the first problem; 413 when too large;
415 for another Content-Type); a row that cannot be imported is rejected on its own.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
import sys
import zlib
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError, ErrorCode, InvalidInput
from ..ids import SNOWFLAKE_RULE_TEXT, is_snowflake
from .rows import MAX_BODY_BYTES, MAX_ROWS, Collector, Fields, Rejected, Reward, Row, SkippedReward

MAX_REWARD_LEVEL = 10_000
JSON_TYPES = ("application/json", "text/json")
CSV_TYPES = (
    "text/csv",
    "application/csv",
    "text/comma-separated-values",
    "text/x-csv",
    "application/vnd.ms-excel",  # what some browsers and Windows label a .csv file
)
SNIFFED_TYPES = ("", "text/plain", "application/octet-stream")  # no Content-Type, or one that says nothing
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Parsed:
    format: str  # "json" (rows), "mee6", "export", "lurkr", "csv"
    rows: list[Row]
    rejected: list[Rejected]
    rewards: list[Reward]  # role rewards the file names (MEE6), first per level, in file order
    # another role at a level that already has one in the file: not imported, but counted and reported
    skipped_rewards: list[SkippedReward] = field(default_factory=list)

    @property
    def received(self) -> int:
        return len(self.rows) + len(self.rejected)


def _bad(message: str) -> InvalidInput:
    return InvalidInput(ErrorCode.INVALID_REQUEST, message)


def _too_large(size: int | None, what: str = "The body") -> ApiError:
    """413; `size` None: more than the limit, by how much is not known (decompression stopped there)."""
    said = f"is {size:,} bytes" if size is not None else f"is more than {MAX_BODY_BYTES:,} bytes"
    return ApiError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"{what} {said}; at most {MAX_BODY_BYTES:,} bytes (10 MB) a call: split the file "
        "(several JSON lists, or several CSV files each with the header)",
    )


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def decompress(body: bytes, content_encoding: str | None) -> bytes:
    """The body as sent, gunzipped when it is gzip (said by Content-Encoding or seen by its magic number),
    never more than MAX_BODY_BYTES."""
    if len(body) > MAX_BODY_BYTES:
        raise _too_large(len(body))
    encoding = (content_encoding or "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        raise ApiError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE, f"Content-Encoding {encoding!r} is not accepted: send gzip or none"
        )
    if encoding in ("gzip", "x-gzip") or body.startswith(GZIP_MAGIC):
        return _gunzip(body)
    return body


def _gunzip(body: bytes) -> bytes:
    """Every gzip member of `body` (a gzip file may be several, e.g. `cat a.gz b.gz`), at most MAX_BODY_BYTES
    out in all."""
    out = bytearray()
    rest = body
    while True:
        inflater = zlib.decompressobj(wbits=31)
        try:
            out += inflater.decompress(rest, MAX_BODY_BYTES + 1 - len(out))
        except zlib.error as exc:
            raise _bad(f"The body is not valid gzip: {exc}") from exc
        if len(out) > MAX_BODY_BYTES or inflater.unconsumed_tail:
            raise _too_large(None, "The body, uncompressed,")
        if not inflater.eof:
            raise _bad("The body is not valid gzip: it ends before its last member does")
        rest = inflater.unused_data
        if not rest:
            return bytes(out)


def parse(body: bytes, content_type: str | None = None, content_encoding: str | None = None) -> Parsed:
    """Read an import body (see the module docstring)."""
    raw = decompress(body, content_encoding)
    kind = media_type(content_type)
    if kind not in JSON_TYPES and not kind.endswith("+json") and kind not in CSV_TYPES and kind not in SNIFFED_TYPES:
        raise ApiError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type {kind!r} is not accepted: send application/json (a list of rows, MEE6 pages or an "
            "xpshop export) or text/csv",
        )
    maybe_csv = kind in CSV_TYPES or (kind in SNIFFED_TYPES and raw.lstrip()[:1] not in (b"[", b"{"))
    text = _decode(raw, _charset(content_type), maybe_csv)
    if not text.strip():
        raise _bad("The body is empty: send a JSON list of rows, MEE6 leaderboard page(s) or a CSV file")
    if kind in CSV_TYPES:
        return _csv(text)
    if kind in SNIFFED_TYPES and text.lstrip()[:1] not in ("[", "{"):
        return _csv(text)
    return _json(text)


def _charset(content_type: str | None) -> str | None:
    """The `charset` parameter of a Content-Type, or None."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').strip() or None
    return None


def _decode(raw: bytes, charset: str | None, maybe_csv: bool) -> str:
    """The body as text. A byte-order mark decides (UTF-8 or UTF-16, what Excel's "Unicode text" saves); else
    the charset the Content-Type declares; else UTF-8. A CSV that is none of those (Excel's "CSV (Comma
    delimited)" on Windows writes the system code page) is read as Windows-1252: the columns read (ids and
    numbers) are ASCII, the same bytes in every such code page, so only ignored columns could read wrong.
    JSON stays UTF-8 (RFC 8259)."""
    if raw.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # reads the mark, and drops it
    elif charset:
        encoding = charset
    else:
        encoding = "utf-8"
    try:
        return raw.decode(encoding)
    except LookupError as exc:  # not a codec Python knows, or not a text one (base64, rot13)
        raise ApiError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"charset {charset!r} is not a text encoding this API reads: send UTF-8 (or say the file's charset)",
        ) from exc
    except UnicodeDecodeError as exc:
        if encoding == "utf-8" and maybe_csv:
            try:
                return raw.decode("cp1252")
            except UnicodeDecodeError:
                return raw.decode("latin-1")  # the five bytes cp1252 leaves undefined: never in an id or a number
        said = "UTF-8" if encoding in ("utf-8", "utf-8-sig") else encoding
        raise _bad(f"The body is not {said} text (invalid byte at offset {exc.start})") from exc


# ---------------------------------------------------------------- JSON


def _too_long(exc: ValueError) -> str:
    """Python's refusal of a long integer in the caller's terms (its own ends with advice for our code)."""
    found = re.search(r"value has (\d+) digits", str(exc))
    digits = f"{int(found.group(1)):,} digits" if found else "too many digits"
    return f"a number of {digits} (at most {sys.get_int_max_str_digits():,} are read)"


def _json(text: str) -> Parsed:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(f"Invalid JSON in request body: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    except RecursionError as exc:
        raise _bad("Invalid JSON in request body (nested too deeply)") from exc
    except ValueError as exc:  # an integer of more digits than Python converts (4300): not a JSONDecodeError
        raise _bad(f"Invalid JSON in request body: {_too_long(exc)}") from exc
    if isinstance(document, dict):
        document = _unwrap(document)
        if "players" in document:
            return _pages([document], single=True)
        if "members" in document:
            return _exports([document], single=True)
        if "levels" in document:
            return _lurkr(document)
        raise _bad(
            "A JSON object must be a MEE6 leaderboard page (with players), an xpshop export (with members) or a "
            "Lurkr backup (with levels); a plain list of rows is a JSON list"
        )
    if not isinstance(document, list):
        raise _bad("The body must be a JSON list of rows or a JSON object (a MEE6 page or an xpshop export)")
    first = document[0] if document else None
    if isinstance(first, dict) and ("players" in first or "members" in _unwrap(first)):
        if "players" in first:
            return _pages(document, single=False)
        return _exports(document, single=False)
    _check_count(len(document))
    rows = Collector()
    for n, entry in enumerate(document, start=1):
        _row(rows, n, entry)
    return Parsed("json", rows.rows, rows.rejected, [])


def _unwrap(document: dict[str, Any]) -> dict[str, Any]:
    """An xpshop API answer saved whole ({"success": true, "data": {...}}) is read as its data."""
    data = document.get("data")
    if document.get("success") is True and isinstance(data, dict):
        return data
    return document


def _check_count(count: int) -> None:
    if count > MAX_ROWS:
        raise _bad(f"The body has {count:,} rows; at most {MAX_ROWS:,} rows a call: split the file")


_MEE6_FIELDS = Fields(messages="message_count")


def _row(rows: Collector, n: int, entry: Any, *, mee6: bool = False, privacy: bool = True) -> None:
    """A JSON row (`id` or `userId`, `xp`, `messages` or `message_count`, `hidden`) or a MEE6 player (`id`,
    `xp`, `message_count`); a rejected row's reason names the key the row has. `privacy` False: the file's
    format has no privacy flag of ours (MEE6, Lurkr), so a `hidden` key in it is not read."""
    if not isinstance(entry, dict):
        rows.reject(n, None, "a row must be an object with id and xp")
        return
    if mee6:
        names = _MEE6_FIELDS
    else:
        messages = next((k for k in ("messages", "message_count", "messageCount") if k in entry), "messages")
        names = Fields(id="userId" if "id" not in entry and "userId" in entry else "id", messages=messages)
    rows.add(
        n,
        entry.get(names.id),
        entry.get("xp"),
        entry.get(names.messages),
        xp_missing="xp" not in entry,
        names=names,
        raw_hidden=entry.get("hidden") if privacy and not mee6 else None,
    )


def _listed(document: Any, key: str, where: str) -> list[Any]:
    found = document.get(key)
    if not isinstance(found, list):
        raise _bad(f"{where}{key} must be a list")
    return found


def _pages(pages: list[Any], *, single: bool) -> Parsed:
    for index, page in enumerate(pages):
        if not isinstance(page, dict) or "players" not in page:
            raise _bad(f"pages[{index}] is not a MEE6 leaderboard page (it has no players)")
    where = [("" if single else f"pages[{i}].") for i in range(len(pages))]
    players = [_listed(page, "players", where[i]) for i, page in enumerate(pages)]
    _check_count(sum(len(p) for p in players))
    rows = Collector()
    n = 0
    for listed in players:
        for entry in listed:
            n += 1
            _row(rows, n, entry, mee6=True)
    rewards: dict[int, tuple[Reward, str]] = {}  # level -> the first reward at it, and where the file has it
    skipped: list[SkippedReward] = []
    for i, page in enumerate(pages):
        found = page.get("role_rewards")
        if found is None:
            continue
        if not isinstance(found, list):
            raise _bad(f"{where[i]}role_rewards must be a list")
        for j, entry in enumerate(found):
            at = f"{where[i]}role_rewards[{j}]"
            reward = _reward(entry, at)
            first = rewards.setdefault(reward.level, (reward, at))  # the first role at a level (one per level)
            # the same reward again is no loss (every MEE6 page carries the guild's list); another role is
            if first[0].role_id != reward.role_id:
                skipped.append(
                    SkippedReward(
                        at,
                        reward.level,
                        reward.role_id,
                        f"{at}: level {reward.level} already has role {first[0].role_id} ({first[1]}): one reward "
                        f"per level, so role {reward.role_id} was not imported",
                    )
                )
    return Parsed("mee6", rows.rows, rows.rejected, [r for r, _ in rewards.values()], skipped)


def _reward(entry: Any, where: str) -> Reward:
    """A MEE6 role reward: {"rank": <level>, "role": {"id": ...}} (also "level", "role_id", "roleId" or
    "rank": {"id"}); an error names the key the entry has (`level` when it gave the level so)."""
    if not isinstance(entry, dict):
        raise InvalidInput(ErrorCode.INVALID_LEVEL, f"{where} must be an object with rank and role")
    rank, rank_key = entry.get("rank"), "rank"
    role = entry.get("role")
    role_id, role_key = (role.get("id"), "role.id") if isinstance(role, dict) else (role, "role")
    if isinstance(rank, dict):  # {"rank": {"id": ...}, "level": n}
        if role_id is None:
            role_id, role_key = rank.get("id"), "rank.id"
        rank, rank_key = entry.get("level"), "level"
    if rank is None and "level" in entry:
        rank, rank_key = entry.get("level"), "level"
    if role_id is None:
        for key in ("role_id", "roleId"):
            if key in entry:
                role_id, role_key = entry.get(key), key
                break
        else:
            role_key = "role.id" if role is None else role_key  # none given: the MEE6 name
    if isinstance(rank, float) and rank.is_integer():  # JSON has one number type: 8.0 is the level 8
        rank = int(rank)
    if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= MAX_REWARD_LEVEL:
        raise InvalidInput(
            ErrorCode.INVALID_LEVEL, f"{where}.{rank_key} must be a level from 1 to {MAX_REWARD_LEVEL}, got {rank!r}"
        )
    if isinstance(role_id, bool) or not is_snowflake(role_id):
        raise InvalidInput(
            ErrorCode.INVALID_ROLE_ID, f"{where}.{role_key} must be {SNOWFLAKE_RULE_TEXT}, got {role_id!r}"
        )
    return Reward(rank, str(role_id))


def _lurkr(document: dict[str, Any]) -> Parsed:
    """Lurkr's leveling backup (its dashboard's export): `{"levels": [{"userId", "xp", "messageCount", "level",
    "user": {...}}]}`; rows as JSON rows (`level` and `user` are not read: the level follows from the XP)."""
    levels = _listed(document, "levels", "")
    _check_count(len(levels))
    rows = Collector()
    for n, entry in enumerate(levels, start=1):
        _row(rows, n, entry, privacy=False)
    return Parsed("lurkr", rows.rows, rows.rejected, [])


def _exports(parts: list[Any], *, single: bool) -> Parsed:
    listed: list[list[Any]] = []
    for index, given in enumerate(parts):
        part = _unwrap(given) if isinstance(given, dict) else given
        if not isinstance(part, dict) or "members" not in part:
            raise _bad(f"parts[{index}] is not an xpshop export (it has no members)")
        listed.append(_listed(part, "members", "" if single else f"parts[{index}]."))
    _check_count(sum(len(m) for m in listed))
    rows = Collector()
    n = 0
    for members in listed:
        for entry in members:
            n += 1
            _row(rows, n, entry)
    return Parsed("export", rows.rows, rows.rejected, [])


# ---------------------------------------------------------------- CSV

_ID_NAMES = {"id", "userid", "discordid", "memberid"}
_XP_NAMES = {"xp", "exp", "experience", "totalxp"}
_MESSAGE_NAMES = {"messages", "messagecount", "msgs"}
_HIDDEN_NAMES = {"hidden"}
# a `hidden` cell: what the export writes (true / false) and what a spreadsheet may turn it into
_YES, _NO = {"true", "1", "yes"}, {"false", "0", "no"}
# Excel's way of keeping a long id from becoming 1.23E+17: the cell is the formula ="123456789012345678"
_EXCEL_TEXT = re.compile(r'="([^"]*)"')
# a whole number, also as a float-typed column writes it ("1500.0": pandas, a spreadsheet's number format), as
# a JSON row's 1500.0 is read
_WHOLE = re.compile(r"([+-]?[0-9]+)(?:\.0*)?")
# Excel's first line naming the separator (`sep=;`), which it writes and reads but never shows as a row
_SEP_LINE = re.compile(r'"?sep=([^\r\n"])"?[ \t]*(?:\r\n|\n|\r|$)', re.IGNORECASE)


def _column(name: str) -> str | None:
    folded = re.sub(r"[\s_\-]", "", name.strip().lstrip("\ufeff").strip('"').lower())
    for column, names in (
        ("id", _ID_NAMES),
        ("xp", _XP_NAMES),
        ("messages", _MESSAGE_NAMES),
        ("hidden", _HIDDEN_NAMES),
    ):
        if folded in names:
            return column
    return None


def _cell_number(text: str) -> Any:
    """A cell as a number when it is a whole one (so "-5" is refused as negative, not as text)."""
    text = text.strip()
    whole = _WHOLE.fullmatch(text) if len(text) <= 40 else None
    return int(whole.group(1)) if whole else text


def _csv(text: str) -> Parsed:
    sep = _SEP_LINE.match(text)
    if sep:  # the lines are then numbered from the header, as the spreadsheet that wrote it shows them
        text = text[sep.end() :]
    header_line = text.lstrip("\r\n").split("\n", 1)[0]
    if sep:
        delimiter = sep.group(1)
    elif any(d in header_line for d in ",;\t"):
        delimiter = max((",", ";", "\t"), key=header_line.count)
    else:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns: dict[str, int] | None = None
    names = Fields()
    rows = Collector()
    count = 0
    ended = 0  # the line the previous record ended on: a quoted cell may hold line breaks
    line = 0
    try:
        for record in reader:
            # a record is numbered by its first line (what a spreadsheet shows), not the last one read
            line, ended = ended + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank lines
            if columns is None:
                columns = _header(record)
                names = Fields(**{column: _header_name(record[index]) for column, index in columns.items()})
                continue
            count += 1
            if count > MAX_ROWS:
                continue  # counted for the error below, not read
            _csv_row(rows, line, record, columns, names)
    except csv.Error as exc:
        raise _bad(f"CSV line {reader.line_num}: {exc}") from exc
    if line and _ends_in_a_quoted_cell(text, line, delimiter):
        # csv reads to the end of the text inside it, silently: the rows on those lines would vanish
        raise _bad(
            f"CSV line {line}: a quoted cell is never closed (a missing or stray quote): the rest of the file "
            "would be read as that one cell"
        )
    if columns is None:
        raise _bad("The CSV has no header row: the first line must name the columns id and xp")
    _check_count(count)
    return Parsed("csv", rows.rows, rows.rejected, [])


def _ends_in_a_quoted_cell(text: str, line: int, delimiter: str) -> bool:
    """Whether the record starting on `line` (1-based, as the reader counts) runs to the end of the text inside
    a quoted cell. Only a quote opening a cell opens one (elsewhere it is text, as csv reads it), and `""` in
    one is a quote, not its end. Only the last record is scanned: the ones before it ended."""
    tail = "".join(itertools.islice(io.StringIO(text, newline=""), line - 1, None))
    at, starts_cell = 0, True
    while at < len(tail):
        if starts_cell and tail[at] == '"':
            at += 1
            while True:  # to the closing quote, jumping over doubled ones
                close = tail.find('"', at)
                if close < 0:
                    return True
                if tail.startswith('"', close + 1):
                    at = close + 2
                    continue
                at = close + 1
                break
            starts_cell = False
            continue
        starts_cell = tail[at] in (delimiter, "\r", "\n")
        at += 1
    return False


def _header(record: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(record):
        column = _column(name)
        if column is None:
            continue
        if column in columns:
            first = _header_name(record[columns[column]])
            raise _bad(f"The CSV header names the {column} column twice: {first!r} and {_header_name(name)!r}")
        columns[column] = index
    missing = [c for c in ("id", "xp") if c not in columns]
    if missing:
        shown = ", ".join(repr(n.strip()) for n in record[:10])
        raise _bad(
            f"The CSV header row must name the columns id and xp (missing {' and '.join(missing)}; found {shown})"
        )
    return columns


def _header_name(cell: str) -> str:
    """A header cell as the spreadsheet shows it: what a rejected row's reason calls that column."""
    return cell.strip().lstrip("\ufeff").strip().strip('"').strip()


def _csv_row(rows: Collector, line: int, record: list[str], columns: dict[str, int], names: Fields) -> None:
    def cell(column: str) -> str | None:
        index = columns.get(column)
        if index is None or index >= len(record):
            return None
        return record[index].strip()

    raw_id, xp, messages, hidden = cell("id"), cell("xp"), cell("messages"), cell("hidden")
    if raw_id:
        excel = _EXCEL_TEXT.fullmatch(raw_id)  # ids only: a count written so is still refused
        raw_id = excel.group(1) if excel else raw_id
    rows.add(
        line,
        raw_id or None,
        _cell_number(xp) if xp else None,
        _cell_number(messages) if messages else None,
        xp_missing=not xp,
        names=names,
        raw_hidden=_cell_flag(hidden) if hidden else None,
    )


def _cell_flag(text: str) -> bool | str:
    """A `hidden` cell as true or false (any case, or 1 / 0, yes / no), else the text (the row is refused)."""
    folded = text.strip().lower()
    return True if folded in _YES else False if folded in _NO else text
