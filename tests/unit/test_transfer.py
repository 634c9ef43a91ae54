"""Import files (xpshop.transfer): JSON rows, MEE6 pages and lists of pages, xpshop exports, CSV (BOM, quoted
fields, reordered columns, other separators), gzip; per-row errors with their row numbers; limits; modes;
role reward merging; the export's CSV."""

from __future__ import annotations

import csv
import gzip
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpshop.errors import ApiError, ErrorCode
from xpshop.levels import MAX_XP
from xpshop.transfer import MAX_BODY_BYTES, MAX_ROWS, Mode, Reward, Row, parse, target
from xpshop.transfer import rewards as reward_rules
from xpshop.transfer.render import csv_text

A, B, C = "123456789012345678", "223456789012345678", "323456789012345678"
ROLE1, ROLE2 = "923456789012345671", "923456789012345672"


def _json(value, content_type="application/json"):
    return parse(json.dumps(value).encode(), content_type)


def _rows(parsed):
    return [(r.row, r.user_id, r.xp, r.messages) for r in parsed.rows]


def _errors(parsed):
    return [(r.row, r.id, r.reason) for r in parsed.rejected]


# ---------------------------------------------------------------- JSON list


def test_a_json_list_of_rows():
    parsed = _json([{"id": A, "xp": 1500, "messages": 42}, {"id": int(B), "xp": 0}])
    assert parsed.format == "json"
    assert _rows(parsed) == [(1, A, 1500, 42), (2, B, 0, None)]
    assert parsed.received == 2 and parsed.rejected == [] and parsed.rewards == []


def test_bad_rows_are_rejected_with_their_row_number_and_the_others_kept():
    parsed = _json(
        [
            {"id": A, "xp": 10},
            {"id": "12345", "xp": 10},  # too short
            {"id": B, "xp": 1.5},
            {"id": C, "xp": -3},
            {"id": "423456789012345678", "xp": MAX_XP + 1},
            {"id": "523456789012345678"},
            {"xp": 7},
            "not a row",
            {"id": A, "xp": 99},  # repeated
            {"id": "623456789012345678", "xp": "100"},
            {"id": "723456789012345678", "xp": True},
            {"id": "823456789012345678", "xp": 5, "messages": -1},
            {"id": "923456789012345678", "xp": 5, "messages": 2},
        ]
    )
    assert _rows(parsed) == [(1, A, 10, None), (13, "923456789012345678", 5, 2)]
    assert _errors(parsed) == [
        (2, "12345", "id must be a Discord snowflake (17-20 digits, at most 2^64-1)"),
        (3, B, "xp must be a whole number, got 1.5"),
        (4, C, "xp must be >= 0, got -3"),
        (5, "423456789012345678", f"xp must be at most {MAX_XP}, got {MAX_XP + 1}"),
        (6, "523456789012345678", "xp is missing"),
        (7, None, "id is missing"),
        (8, None, "a row must be an object with id and xp"),
        (9, A, "id repeated: already at row 1"),
        (10, "623456789012345678", "xp must be a whole number, got '100'"),
        (11, "723456789012345678", "xp must be a whole number, got true"),
        (12, "823456789012345678", "messages must be >= 0, got -1"),
    ]
    assert parsed.received == 13


def test_a_whole_number_written_with_a_fraction_is_that_number():
    """JSON has one number type: 100.0 is the whole number 100, as in every other /api/xp body and in a MEE6
    page's `rank` (a JSON file written by Python's json module or a float column comes out that way)."""
    parsed = _json([{"id": A, "xp": 1500.0, "messages": 42.0}, {"id": B, "xp": 0.0}, {"id": C, "xp": 1e20}])
    assert _rows(parsed) == [(1, A, 1500, 42), (2, B, 0, None)]
    assert _errors(parsed) == [(3, C, f"xp must be at most {MAX_XP}, got 100000000000000000000")]
    assert all(type(r.xp) is int for r in parsed.rows)
    mee6 = _json(_page([{"id": A, "xp": 155.0, "message_count": 3.0}]))
    assert _rows(mee6) == [(1, A, 155, 3)]


def test_an_id_repeated_after_a_rejected_row_is_still_a_repeat():
    parsed = _json([{"id": A, "xp": -1}, {"id": A, "xp": 5}])
    assert parsed.rows == []
    assert [e[2] for e in _errors(parsed)] == ["xp must be >= 0, got -1", "id repeated: already at row 1"]


def test_an_empty_list_imports_nothing():
    parsed = _json([])
    assert parsed.rows == [] and parsed.received == 0


# ---------------------------------------------------------------- MEE6


def _page(players, rewards=None):
    page = {"admin": False, "page": 0, "players": players, "xp_per_message": [15, 25], "xp_rate": 1}
    if rewards is not None:
        page["role_rewards"] = rewards
    return page


def _player(user, xp, count=None):
    player = {"id": user, "username": "someone", "avatar": "a", "level": 3, "detailed_xp": [10, 220, xp], "xp": xp}
    if count is not None:
        player["message_count"] = count
    return player


def test_a_mee6_page_gives_members_and_role_rewards():
    parsed = _json(
        _page(
            [_player(A, 5000, 300), _player(B, 155)],
            [{"rank": 5, "role": {"id": ROLE1, "name": "Regular", "color": 0}}, {"rank": 10, "role": {"id": ROLE2}}],
        )
    )
    assert parsed.format == "mee6"
    assert _rows(parsed) == [(1, A, 5000, 300), (2, B, 155, None)]
    assert parsed.rewards == [Reward(5, ROLE1), Reward(10, ROLE2)]


def test_a_list_of_mee6_pages_numbers_rows_across_pages_and_keeps_one_reward_per_level():
    rewards = [{"rank": 5, "role": {"id": ROLE1}}]
    parsed = _json(
        [
            _page([_player(A, 900), _player(B, 800)], rewards),
            _page([_player(C, 700), _player(A, 600)], [*rewards, {"rank": 5, "role": {"id": ROLE2}}]),
        ]
    )
    assert _rows(parsed) == [(1, A, 900, None), (2, B, 800, None), (3, C, 700, None)]
    assert _errors(parsed) == [(4, A, "id repeated: already at row 1")]
    assert parsed.rewards == [Reward(5, ROLE1)]
    # every MEE6 page carries the guild's rewards: the same one again is not a skip; another role at level 5 is
    assert [s.as_dict() for s in parsed.skipped_rewards] == [
        {
            "entry": "pages[1].role_rewards[1]",
            "level": 5,
            "roleId": ROLE2,
            "reason": f"pages[1].role_rewards[1]: level 5 already has role {ROLE1} (pages[0].role_rewards[0]): "
            f"one reward per level, so role {ROLE2} was not imported",
        }
    ]


def test_two_roles_at_one_level_keep_the_first_and_count_the_second_as_skipped():
    parsed = _json(
        _page(
            [],
            [
                {"rank": 5, "role": {"id": ROLE1}},
                {"rank": 5, "role": {"id": ROLE2}},
                {"rank": 5, "role": {"id": ROLE1}},
            ],
        )
    )
    assert parsed.rewards == [Reward(5, ROLE1)]
    assert [(s.entry, s.level, s.role_id) for s in parsed.skipped_rewards] == [("role_rewards[1]", 5, ROLE2)]
    merged = reward_rules.merge([], parsed.rewards, replace=False)
    counts = merged.counts(len(parsed.rewards), parsed.skipped_rewards)
    assert {k: v for k, v in counts.items() if k != "errors"} == {
        "received": 2,
        "added": 1,
        "replaced": 0,
        "kept": 0,
        "skipped": 1,
    }
    assert counts["errors"] == [s.as_dict() for s in parsed.skipped_rewards]


def test_role_reward_variants_and_their_errors():
    variants = [{"level": 3, "role_id": ROLE1}, {"rank": {"id": ROLE2}, "level": 7}]
    assert _json(_page([], variants)).rewards == [Reward(3, ROLE1), Reward(7, ROLE2)]
    with pytest.raises(ApiError) as bad_level:
        _json([_page([]), _page([], [{"rank": 0, "role": {"id": ROLE1}}])])
    assert bad_level.value.code is ErrorCode.INVALID_LEVEL
    assert bad_level.value.message.startswith("pages[1].role_rewards[0].rank must be a level from 1 to 10000")
    with pytest.raises(ApiError) as bad_role:
        _json(_page([], [{"rank": 4, "role": {"id": "nope"}}]))
    assert bad_role.value.code is ErrorCode.INVALID_ROLE_ID
    assert bad_role.value.message.startswith("role_rewards[0].role.id must be a Discord snowflake")


def test_mee6_row_errors_name_the_fields_as_the_file_writes_them():
    """A MEE6 player's message count is `message_count`: a bad one is named so (as are id and xp)."""
    bad = [
        {"id": A, "xp": 10, "message_count": -1},
        {"id": B, "xp": 10, "message_count": "many"},
        {"id": C, "xp": 10, "message_count": MAX_XP + 1},
        {"id": "423456789012345678", "xp": -5, "message_count": 3},
        {"id": "nope", "xp": 1},
        {"xp": 1, "message_count": 2},
        {"id": "523456789012345678", "message_count": 2},
        {"id": "623456789012345678", "xp": 1, "messages": -1},  # not a MEE6 field: not read
    ]
    parsed = _json(_page(bad))
    assert _errors(parsed) == [
        (1, A, "message_count must be >= 0, got -1"),
        (2, B, "message_count must be a whole number, got 'many'"),
        (3, C, f"message_count must be at most {MAX_XP}, got {MAX_XP + 1}"),
        (4, "423456789012345678", "xp must be >= 0, got -5"),
        (5, "nope", "id must be a Discord snowflake (17-20 digits, at most 2^64-1)"),
        (6, None, "id is missing"),
        (7, "523456789012345678", "xp is missing"),
    ]
    assert _rows(parsed) == [(8, "623456789012345678", 1, None)]


def test_json_row_errors_name_the_key_the_row_used():
    """JSON rows take `userId` for `id` and `message_count` for `messages`: errors name what the row has."""
    parsed = _json(
        [
            {"userId": "12345", "xp": 1},
            {"id": A, "xp": 1, "message_count": -2},
            {"userId": B, "xp": 1, "messages": "x"},
            {"id": C, "xp": 1, "messages": -3},
        ]
    )
    assert _errors(parsed) == [
        (1, "12345", "userId must be a Discord snowflake (17-20 digits, at most 2^64-1)"),
        (2, A, "message_count must be >= 0, got -2"),
        (3, B, "messages must be a whole number, got 'x'"),
        (4, C, "messages must be >= 0, got -3"),
    ]
    export = {"members": [{"id": A, "xp": 1, "level": 0, "messages": -1}], "next": None}
    assert _errors(_json(export)) == [(1, A, "messages must be >= 0, got -1")]


def test_mee6_role_reward_errors_name_the_keys_the_reward_used():
    cases = [
        ({"rank": 0, "role": {"id": ROLE1}}, "role_rewards[0].rank must be a level"),
        ({"level": 0, "role_id": ROLE1}, "role_rewards[0].level must be a level"),
        ({"rank": {"id": ROLE1}, "level": -1}, "role_rewards[0].level must be a level"),
        ({"rank": {"id": "x"}, "level": 4}, "role_rewards[0].rank.id must be a Discord snowflake"),
        ({"rank": 4, "role": {"id": "x"}}, "role_rewards[0].role.id must be a Discord snowflake"),
        ({"rank": 4, "role": "x"}, "role_rewards[0].role must be a Discord snowflake"),
        ({"rank": 4, "role_id": "x"}, "role_rewards[0].role_id must be a Discord snowflake"),
        ({"rank": 4, "roleId": "x"}, "role_rewards[0].roleId must be a Discord snowflake"),
        ({"rank": 4}, "role_rewards[0].role.id must be a Discord snowflake"),
    ]
    for reward, message in cases:
        with pytest.raises(ApiError) as refused:
            _json(_page([], [reward]))
        assert refused.value.message.startswith(message), (reward, refused.value.message)


def test_a_page_without_players_in_a_list_of_pages_is_refused():
    with pytest.raises(ApiError) as refused:
        _json([_page([]), {"rows": []}])
    assert refused.value.code is ErrorCode.INVALID_REQUEST
    assert refused.value.message == "pages[1] is not a MEE6 leaderboard page (it has no players)"


# ---------------------------------------------------------------- xpshop exports


def test_a_lurkr_backup_is_read_as_rows():
    """Lurkr's dashboard export: `{"levels": [{level, messageCount, user, userId, xp}]}` (peers.md)."""
    user = {"avatar": None, "discriminator": "0", "username": "x"}
    backup = {
        "levels": [
            {"level": 3, "messageCount": 12, "user": user, "userId": A, "xp": 500},
            {"level": 0, "messageCount": 1, "user": user, "userId": B},
            {"level": 1, "messageCount": -1, "user": user, "userId": C, "xp": 100},
        ]
    }
    parsed = _json(backup)
    assert parsed.format == "lurkr"
    assert _rows(parsed) == [(1, A, 500, 12)]
    assert _errors(parsed) == [(2, B, "xp is missing"), (3, C, "messageCount must be >= 0, got -1")]
    assert _rows(_json({"success": True, "data": backup})) == [(1, A, 500, 12)]
    with pytest.raises(ApiError, match="levels must be a list"):
        _json({"levels": {}})


def test_an_export_part_and_the_api_envelope_around_it():
    part = {"guildId": "1" * 18, "members": [{"id": A, "xp": 20, "level": 0, "messages": 3}], "next": None}
    assert _rows(_json(part)) == [(1, A, 20, 3)]
    assert _json(part).format == "export"
    assert _rows(_json({"success": True, "data": part})) == [(1, A, 20, 3)]
    second = {"members": [{"id": B, "xp": 10, "level": 0, "messages": 0}], "next": None}
    assert _rows(_json([{"success": True, "data": part}, second])) == [(1, A, 20, 3), (2, B, 10, 0)]


# ---------------------------------------------------------------- CSV


def test_csv_with_a_bom_quoted_fields_reordered_columns_and_extra_ones():
    text = (
        '\ufeff"messages","name","XP","User ID"\r\n'
        f'12,"Someone, with a comma",1500,"{A}"\r\n'
        f',"Another ""quoted"" name",155,{B}\r\n'
        "\r\n"
        f"3,x,1.5,{C}\r\n"
    )
    parsed = parse(text.encode("utf-8"), "text/csv; charset=utf-8")
    assert parsed.format == "csv"
    assert _rows(parsed) == [(2, A, 1500, 12), (3, B, 155, None)]
    assert _errors(parsed) == [(5, C, "XP must be a whole number, got '1.5'")]  # the column as the header names it


@pytest.mark.parametrize("separator", [";", "\t"])
def test_csv_with_semicolons_or_tabs(separator):
    text = f"id{separator}xp\n{A}{separator}7\n{B}{separator}-2\n"
    parsed = parse(text.encode(), "text/csv")
    assert _rows(parsed) == [(2, A, 7, None)]
    assert _errors(parsed) == [(3, B, "xp must be >= 0, got -2")]


def test_csv_rows_with_missing_cells():
    parsed = parse(f"id,xp,messages\n{A}\n{B},,4\n,5\n".encode(), "text/csv")
    assert parsed.rows == []
    assert _errors(parsed) == [(2, A, "xp is missing"), (3, B, "xp is missing"), (4, None, "id is missing")]


def test_csv_row_errors_name_the_columns_as_the_header_writes_them():
    text = f'"User ID";Total XP;Message Count\n12345;5;1\n{A};-1;2\n{B};3;-4\n{C};;2\n;4;1\n'
    parsed = parse(text.encode(), "text/csv")
    assert parsed.rows == []
    assert _errors(parsed) == [
        (2, "12345", "User ID must be a Discord snowflake (17-20 digits, at most 2^64-1)"),
        (3, A, "Total XP must be >= 0, got -1"),
        (4, B, "Message Count must be >= 0, got -4"),
        (5, C, "Total XP is missing"),
        (6, None, "User ID is missing"),
    ]


def test_csv_without_the_id_and_xp_columns_is_refused_naming_them():
    with pytest.raises(ApiError) as refused:
        parse(b"user,points\n1,2\n", "text/csv")
    assert refused.value.code is ErrorCode.INVALID_REQUEST
    assert "must name the columns id and xp (missing id and xp" in refused.value.message


@pytest.mark.parametrize("first_line", ["sep=;", "sep=;\r", '"sep=;"', "SEP=;"])
def test_csv_with_excels_separator_line(first_line):
    """Excel writes `sep=;` first (and hides it): it names the separator, and the header is line 1 after it."""
    text = f"{first_line}\nid;xp;name\n{A};7;Jo, Sr\n{B};x;\n"
    parsed = parse(text.encode(), "text/csv")
    assert _rows(parsed) == [(2, A, 7, None)]
    assert _errors(parsed) == [(3, B, "xp must be a whole number, got 'x'")]


def test_csv_sep_line_with_a_comma_and_windows_line_ends():
    parsed = parse(f"sep=,\r\nid,xp\r\n{A},7\r\n".encode(), "text/csv")
    assert _rows(parsed) == [(2, A, 7, None)]


def test_csv_whole_numbers_written_as_floats_are_read_as_json_rows_read_them():
    """A float-typed column (pandas with a blank cell, a spreadsheet's number format) writes 1500.0."""
    parsed = parse(f"id,xp,messages\n{A},1500.0,42.0\n{B},-3.0,\n{C},2.5,1\n".encode(), "text/csv")
    assert _rows(parsed) == [(2, A, 1500, 42)]
    assert _errors(parsed) == [(3, B, "xp must be >= 0, got -3"), (4, C, "xp must be a whole number, got '2.5'")]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_csv_in_utf16_with_its_byte_order_mark(encoding):
    """Excel's "Unicode text" is UTF-16 with a BOM, tab-separated."""
    text = f"Name\tid\txp\nJosé 山田\t{A}\t7\n"
    body = text.encode(encoding)
    if encoding != "utf-16":  # the explicit-endian codecs write no mark: add the one Excel writes
        body = ("\ufeff" + text).encode(encoding)
    parsed = parse(body, "text/plain")
    assert parsed.format == "csv"
    assert _rows(parsed) == [(2, A, 7, None)]


def test_csv_in_a_windows_code_page_is_read():
    """Excel's "CSV (Comma delimited)" on Windows writes the system code page: the ids and numbers read the same."""
    body = f"Name;id;xp\nJosé Müller ™;{A};7\nÅsa;{B};-1\n".encode("cp1252")
    parsed = parse(body, "text/csv")
    assert _rows(parsed) == [(2, A, 7, None)]
    assert _errors(parsed) == [(3, B, "xp must be >= 0, got -1")]
    assert parse(b"id,xp\n" + A.encode() + b",5,\x81\x8d\n", None).rows[0].xp == 5  # bytes cp1252 leaves undefined


def test_a_declared_charset_is_honoured():
    body = f'[{{"id": "{A}", "xp": 7, "name": "José"}}]'.encode("latin-1")
    assert _rows(parse(body, "application/json; charset=ISO-8859-1")) == [(1, A, 7, None)]
    assert _rows(parse(f"id,xp\n{A},7\n".encode("utf-16-le"), 'text/csv; charset="utf-16le"')) == [(2, A, 7, None)]


def test_a_body_without_a_content_type_is_read_by_its_shape():
    assert parse(f'[{{"id": "{A}", "xp": 1}}]'.encode(), None).format == "json"
    assert parse(f"id,xp\n{A},1\n".encode(), "text/plain").format == "csv"
    assert parse(f"id,xp\n{A},1\n".encode(), "application/octet-stream").format == "csv"


# ---------------------------------------------------------------- bodies refused whole


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"", "application/json", 400, "The body is empty"),
        (b"[1, 2", "application/json", 400, "Invalid JSON in request body"),
        (b'"text"', "application/json", 400, "The body must be a JSON list of rows or a JSON object"),
        (b'{"rows": []}', "application/json", 400, "A JSON object must be a MEE6 leaderboard page"),
        (b'[{"id": "\xff"}]', "application/json", 400, "The body is not UTF-8 text"),
        (b"\xff\xfei\x00d\x00,", "text/csv", 400, "The body is not utf-16 text"),
        (b"id,xp\n", "text/csv; charset=x-unknown", 415, "charset 'x-unknown' is not a text encoding"),
        (b"id,xp\n", "text/csv; charset=base64", 415, "charset 'base64' is not a text encoding"),
        (b"<xml/>", "application/xml", 415, "Content-Type 'application/xml' is not accepted"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "Invalid JSON in request body (nested too deeply)"),
        (b'[{"id": "1", "xp": ' + b"9" * 5000 + b"}]", "application/json", 400, "Invalid JSON in request body"),
        (b'id,xp\n"' + b"x" * 200_000 + b'",1\n', "text/csv", 400, "CSV line 2: field larger than field limit"),
    ],
)
def test_unreadable_bodies_are_refused_with_the_first_problem(body, content_type, status, message):
    with pytest.raises(ApiError) as refused:
        parse(body, content_type)
    assert refused.value.status == status
    assert refused.value.message.startswith(message), refused.value.message


def test_an_integer_too_long_to_read_is_said_in_the_clients_terms():
    """Python's own message ("use sys.set_int_max_str_digits() ...") is advice for our code, not the caller."""
    with pytest.raises(ApiError) as refused:
        parse(b'[{"id": "1", "xp": ' + b"9" * 5000 + b"}]", "application/json")
    assert refused.value.status == 400
    assert refused.value.message == "Invalid JSON in request body: a number of 5,000 digits (at most 4,300 are read)"


def test_size_and_row_limits_are_stated_in_the_error():
    with pytest.raises(ApiError) as too_big:
        parse(b" " * (MAX_BODY_BYTES + 1), "application/json")
    assert too_big.value.status == 413 and too_big.value.code is ErrorCode.PAYLOAD_TOO_LARGE
    assert "at most 10,485,760 bytes (10 MB) a call" in too_big.value.message
    rows = "".join(f"{10**17 + n},1\n" for n in range(MAX_ROWS + 1))
    with pytest.raises(ApiError) as too_many:
        parse(("id,xp\n" + rows).encode(), "text/csv")
    assert too_many.value.status == 400
    assert too_many.value.message == "The body has 100,001 rows; at most 100,000 rows a call: split the file"
    listed = [{"id": str(10**17 + n), "xp": 1} for n in range(MAX_ROWS + 1)]
    with pytest.raises(ApiError):
        _json(listed)


def test_gzip_bodies_said_or_seen():
    body = json.dumps([{"id": A, "xp": 3}]).encode()
    assert _rows(parse(gzip.compress(body), "application/json", "gzip")) == [(1, A, 3, None)]
    assert _rows(parse(gzip.compress(body), "application/json")) == [(1, A, 3, None)]
    bomb = gzip.compress(b" " * (MAX_BODY_BYTES + 10))
    with pytest.raises(ApiError) as too_big:
        parse(bomb, "application/json", "gzip")
    assert too_big.value.status == 413
    with pytest.raises(ApiError) as unknown:
        parse(body, "application/json", "br")
    assert unknown.value.status == 415


# ---------------------------------------------------------------- modes


def test_modes():
    assert target(Mode.REPLACE, 500, 9, 100, None) == (100, 9)
    assert target(Mode.REPLACE, 500, 9, 100, 2) == (100, 2)
    assert target(Mode.ADD, 500, 9, 100, None) == (600, 9)
    assert target(Mode.ADD, 500, 9, 100, 2) == (600, 11)
    assert target(Mode.MAX, 500, 9, 100, 20) == (500, 20)
    assert target(Mode.MAX, 50, 9, 100, 2) == (100, 9)
    assert target(Mode.MAX, 50, 9, 100, None) == (100, 9)


@given(
    stored=st.tuples(st.integers(0, 10**6), st.integers(0, 10**4)),
    row=st.tuples(st.integers(0, 10**6), st.none() | st.integers(0, 10**4)),
)
def test_modes_are_idempotent_where_they_should_be(stored, row):
    once = target(Mode.MAX, *stored, *row)
    assert target(Mode.MAX, *once, *row) == once
    replaced = target(Mode.REPLACE, *stored, *row)
    assert target(Mode.REPLACE, *replaced, *row) == replaced
    assert target(Mode.ADD, *stored, *row)[0] == stored[0] + row[0]


# ---------------------------------------------------------------- role rewards


def test_role_rewards_merge_keeps_the_guilds_unless_replace():
    current = [{"level": 5, "roleId": ROLE1}, {"level": 20, "roleId": ROLE1}]
    imported = [Reward(5, ROLE2), Reward(10, ROLE2), Reward(20, ROLE1)]
    merged = reward_rules.merge(current, imported, replace=False)
    assert merged.rewards == [
        {"level": 5, "roleId": ROLE1},
        {"level": 10, "roleId": ROLE2},
        {"level": 20, "roleId": ROLE1},
    ]
    assert merged.counts(3) == {"received": 3, "added": 1, "replaced": 0, "kept": 2, "skipped": 0, "errors": []}
    replaced = reward_rules.merge(current, imported, replace=True)
    assert replaced.rewards[0] == {"level": 5, "roleId": ROLE2}
    assert replaced.counts(3) == {"received": 3, "added": 1, "replaced": 1, "kept": 1, "skipped": 0, "errors": []}
    assert not reward_rules.merge(current, [Reward(5, ROLE1)], replace=True).changed


# ---------------------------------------------------------------- export CSV


def test_the_export_csv_reads_back_as_an_import():
    members = [
        {"id": A, "xp": 1500, "level": 5, "messages": 3, "hidden": False},
        {"id": B, "xp": 0, "level": 0, "messages": 0, "hidden": False},
    ]
    text = csv_text(members)
    assert text.splitlines()[0] == "id,xp,level,messages,hidden"
    assert list(csv.reader(io.StringIO(text)))[1] == [A, "1500", "5", "3", "false"]
    assert parse(text.encode(), "text/csv").rows == [Row(2, A, 1500, 3, False), Row(3, B, 0, 0, False)]


# ---------------------------------------------------------------- what an imported level does downstream


def test_imported_levels_reconcile_roles_quietly():
    """The effects function sees `levelSource: imported`: roles yes (it is a level change), no announcement
    (an import moves thousands of levels at once) and no credits (the XP was not earned here)."""
    from xpshop.service.effects import level_change_from_images

    old = {"SK": f"MEMBER#{A}", "guildId": "1" * 18, "userId": A, "level": 0, "xp": 0}
    change = level_change_from_images(old, {**old, "level": 9, "xp": 5500, "levelSource": "imported"})
    assert change is not None and change.quiet and not change.earned and not change.by_recalc
    earned = level_change_from_images(old, {**old, "level": 1, "xp": 160, "levelSource": "earned"})
    assert earned is not None and not earned.quiet


# ---------------------------------------------------------------- probe session 17


def test_a_repeated_id_is_named_as_the_file_names_its_id():
    """Every other reason names the field as the file does (`userId`, a CSV's `User ID`): a repeat too."""
    assert _errors(_json([{"userId": A, "xp": 1}, {"userId": A, "xp": 2}])) == [
        (2, A, "userId repeated: already at row 1")
    ]
    text = f"User ID;Total XP\n{A};5\n{A};7\n"
    assert _errors(parse(text.encode(), "text/csv")) == [(3, A, "User ID repeated: already at row 2")]
    assert _errors(_json(_page([_player(A, 1), _player(A, 2)]))) == [(2, A, "id repeated: already at row 1")]


def test_a_csv_record_spanning_lines_is_numbered_by_its_first_line():
    """A quoted cell with a line break makes one record of two lines; the row is where it starts (what a
    spreadsheet shows), and the records after it keep their own line numbers."""
    text = f'id,name,xp\n{A},"two\nlines",oops\n{B},x,-1\n{C},"a\nb\nc",5\n{C},y,6\n'
    parsed = parse(text.encode(), "text/csv")
    assert _errors(parsed) == [
        (2, A, "xp must be a whole number, got 'oops'"),
        (4, B, "xp must be >= 0, got -1"),
        (8, C, "id repeated: already at row 5"),
    ]
    assert _rows(parsed) == [(5, C, 5, None)]


def test_a_csv_header_naming_a_column_twice_says_which_cells():
    with pytest.raises(ApiError) as refused:
        parse(f"userId,id,xp\n{A},{A},1\n".encode(), "text/csv")
    assert refused.value.message == "The CSV header names the id column twice: 'userId' and 'id'"


def test_a_gzip_body_of_several_members_is_read_whole_and_a_bomb_is_said_truthfully():
    """`cat a.gz b.gz` (or a tool writing one gzip member per block) is one valid gzip file: every member is
    read, not only the first (the rest was dropped without a word). Past the limit, the answer says "more
    than" the limit: decompression stops there, the real size is not known."""
    text = f"id,xp\n{A},1\n{B},2\n{C},3\n"
    head, tail = text[:15], text[15:]
    assert _rows(parse(gzip.compress(head.encode()) + gzip.compress(tail.encode()), "text/csv", "gzip")) == [
        (2, A, 1, None),
        (3, B, 2, None),
        (4, C, 3, None),
    ]
    half = b" " * (MAX_BODY_BYTES // 2 + 10)
    for bomb in (gzip.compress(b" " * (MAX_BODY_BYTES + 10)), gzip.compress(half) + gzip.compress(half)):
        with pytest.raises(ApiError) as too_big:
            parse(bomb, "application/json", "gzip")
        assert too_big.value.status == 413
        assert f"uncompressed, is more than {MAX_BODY_BYTES:,} bytes" in too_big.value.message
    with pytest.raises(ApiError) as garbage:
        parse(gzip.compress(text.encode()) + b"not gzip", "text/csv", "gzip")
    assert garbage.value.status == 400 and "not valid gzip" in garbage.value.message


# ---------------------------------------------------------------- the privacy choice (`hidden`)


def _hidden(parsed):
    return [(r.user_id, r.hidden) for r in parsed.rows]


def test_an_export_carries_each_members_privacy_choice_and_reads_back():
    """A hidden member exported and imported elsewhere stays hidden: the export says so (`hidden`), in JSON
    and in CSV, and the importer reads it back."""
    members = [
        {"id": A, "xp": 1500, "level": 5, "messages": 3, "hidden": True},
        {"id": B, "xp": 0, "level": 0, "messages": 0, "hidden": False},
    ]
    text = csv_text(members)
    assert text.splitlines()[0] == "id,xp,level,messages,hidden"
    assert list(csv.reader(io.StringIO(text)))[1:] == [[A, "1500", "5", "3", "true"], [B, "0", "0", "0", "false"]]
    assert parse(text.encode(), "text/csv").rows == [Row(2, A, 1500, 3, True), Row(3, B, 0, 0, False)]
    part = {"guildId": "1" * 18, "members": members, "next": None}
    assert _hidden(_json(part)) == [(A, True), (B, False)]
    assert _hidden(_json({"success": True, "data": part})) == [(A, True), (B, False)]


def test_a_row_that_does_not_state_hidden_leaves_the_choice_alone():
    assert _hidden(_json([{"id": A, "xp": 1}, {"id": B, "xp": 2, "hidden": None}])) == [(A, None), (B, None)]
    assert _hidden(parse(f"id,xp\n{A},1\n".encode(), "text/csv")) == [(A, None)]
    assert _hidden(parse(f"id,xp,hidden\n{A},1,\n".encode(), "text/csv")) == [(A, None)]


def test_mee6_and_lurkr_files_never_state_hidden():
    """Neither writes a privacy flag of ours: a field of that name there is not ours, and is not read."""
    player = {**_player(A, 10), "hidden": True}
    assert _hidden(_json(_page([player]))) == [(A, None)]
    assert _hidden(_json({"levels": [{"userId": A, "xp": 10, "messageCount": 1, "hidden": True}]})) == [(A, None)]


@pytest.mark.parametrize(
    ("cell", "hidden"),
    [("true", True), ("TRUE", True), (" True ", True), ("1", True), ("yes", True), ("false", False), ("0", False)],
)
def test_a_csv_hidden_cell_as_spreadsheets_write_it(cell, hidden):
    assert _hidden(parse(f"id,xp,Hidden\n{A},1,{cell}\n".encode(), "text/csv")) == [(A, hidden)]


def test_a_hidden_value_that_is_not_a_yes_or_no_rejects_its_row():
    parsed = _json([{"id": A, "xp": 1, "hidden": "true"}, {"id": B, "xp": 1, "hidden": 1}, {"id": C, "xp": 1}])
    assert _errors(parsed) == [
        (1, A, "hidden must be true or false, got 'true'"),
        (2, B, "hidden must be true or false, got 1"),
    ]
    assert _hidden(parsed) == [(C, None)]
    parsed = parse(f"id,xp,Hidden\n{A},1,maybe\n{B},1,true\n".encode(), "text/csv")
    assert _errors(parsed) == [(2, A, "Hidden must be true or false, got 'maybe'")]
    assert _hidden(parsed) == [(B, True)]


# ---------------------------------------------------------------- Excel's ="..." id cells


@pytest.mark.parametrize("written", [f'="{A}"', f'"=""{A}"""', f' ="{A}" '])
def test_an_excel_text_formula_id_cell_is_read_as_its_value(written):
    """Excel writes a long id as ="123..." so that it is not turned into 1.23E+17: the id is what is inside."""
    parsed = parse(f"id,xp\n{written},5\n".encode(), "text/csv")
    assert _rows(parsed) == [(2, A, 5, None)] and parsed.rejected == []


@pytest.mark.parametrize("written", [f"={A}", f'=" {A}"', f'="{A}', f'=="{A}"', f'="{A}"x', f'=T("{A}")'])
def test_only_that_exact_form_is_unwrapped(written):
    cell = written.replace('"', '""')
    parsed = parse(f'id,xp\n"{cell}",5\n'.encode(), "text/csv")
    assert (
        parsed.rows == [] and _errors(parsed)[0][2] == "id must be a Discord snowflake (17-20 digits, at most 2^64-1)"
    )


def test_an_excel_text_formula_is_not_unwrapped_in_other_columns():
    parsed = parse(f'id,xp,messages\n="{A}",="5",="3"\n'.encode(), "text/csv")
    assert _errors(parsed) == [(2, A, "xp must be a whole number, got '=\"5\"'")]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (f'id,xp,name\n{A},5,ok\n{B},6,"Bob\n{C},7,x\n423456789012345678,8,y\n', 3),  # swallows two rows
        (f'id,xp,name\n{A},5,ok\n{B},6,"Bob', 3),  # no line end after it
        (f'id,xp\n{A},5\n"{B},6\n', 3),  # the id cell
        (f'id,xp,name\n{A},5,"x"""\n{B},6,"a""b\n', 3),  # a doubled quote does not close it
    ],
)
def test_a_csv_quote_never_closed_is_refused_not_read_as_one_cell(text, line):
    """Without the closing quote, every line after the opening one lands in one cell and the rows on them
    vanish from the import without a word (a bigger tail was already refused: "field larger than field
    limit"). A file cut short, or a stray quote, is a body that cannot be read: 400 naming the line."""
    with pytest.raises(ApiError) as refused:
        parse(text.encode(), "text/csv")
    assert refused.value.status == 400
    assert refused.value.message == (
        f"CSV line {line}: a quoted cell is never closed (a missing or stray quote): the rest of the file "
        "would be read as that one cell"
    )


def test_quotes_that_are_closed_or_inside_unquoted_cells_are_read_as_before():
    text = f'id,xp,name\n{A},5,"a ""quoted"" name"\n{B},6,Dwayne "The Rock"\n{C},7,6\'2"\n'
    assert _rows(parse(text.encode(), "text/csv")) == [(2, A, 5, None), (3, B, 6, None), (4, C, 7, None)]


# ---------------------------------------------------------------- one snowflake rule in every message


def test_every_snowflake_message_states_the_same_rule_as_the_api():
    """The import's row and reward messages, the path ids' and the API bodies' say the same bound."""
    from pydantic import TypeAdapter, ValidationError

    from xpshop import ids
    from xpshop.api.fields import Snowflake

    rule = "a Discord snowflake (17-20 digits, at most 2^64-1)"
    too_big = str(2**64)  # 20 digits, one past the bound
    assert _errors(_json([{"id": too_big, "xp": 1}])) == [(1, too_big, f"id must be {rule}")]
    with pytest.raises(ApiError) as reward:
        _json(_page([], [{"rank": 4, "role": {"id": too_big}}]))
    assert reward.value.message == f"role_rewards[0].role.id must be {rule}, got {too_big!r}"
    with pytest.raises(ApiError) as path:
        ids.snowflake(too_big, "userId")
    assert path.value.message == f"userId must be {rule}, got {too_big!r}"
    with pytest.raises(ValidationError) as body:
        TypeAdapter(Snowflake).validate_python(too_big)
    assert f"must be {rule}" in str(body.value)
