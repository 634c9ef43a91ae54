"""Member display data: cleaning and limits of untrusted names, avatar hashes, what an interaction carries,
what a relayed message carries (absent is not null), and Discord Markdown escaping."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import ValidationError

from xpshop import display
from xpshop.api.xp.messages import IngestBody, MessageEvent, parse_queued

HASH = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Ada", "Ada"),
        ("  Ada  ", "Ada"),
        ("Cafe\u0301", "Café"),  # NFC: one code point
        ("line\nbreak\ttab\x00nul", "linebreaktabnul"),
        ("evil\u202eoverride\u2066isolate", "eviloverrideisolate"),
        ("para\u2029sep\u2028line", "parasepline"),
        ("lone\ud800surrogate", "lonesurrogate"),  # not UTF-8: DynamoDB would refuse the write
        ("👩‍💻 dev", "👩‍💻 dev"),  # the zero-width joiner of an emoji sequence stays
        ("Ὀδυσσεύς", "Ὀδυσσεύς"),
        ("مرحبا", "مرحبا"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),  # kept as text: views escape it
        ("\n\t", ""),
    ],
)
def test_names_are_cleaned_not_interpreted(raw: str, clean: str) -> None:
    assert display.clean_name(raw) == clean


def test_name_limits_count_the_cleaned_form() -> None:
    assert display.name_problem("x" * 100) is None
    assert "at most 100" in (display.name_problem("x" * 101) or "")
    assert display.name_problem("x" * 100 + "\x00" * 50) is None  # controls are removed before counting
    assert "at most 100" in (display.name_problem("x" * 401) or "")  # refused before any work


def test_lenient_names_are_cut_never_refused() -> None:
    assert display.lenient_name("y" * 500) == "y" * 100
    assert display.lenient_name(" \x07 ") is None
    assert display.lenient_name(42) is None
    assert display.lenient_name(None) is None


# Names that draw nothing: zero-width characters, joiners, a BOM, a soft hyphen, combining marks with no letter,
# the Hangul fillers and the braille blank (what people pick for an "empty" Discord name). Stored as is, they
# made a blank name link on the web board and a bare "@" on the card.
BLANK_NAMES = ["\u200b\u200b", "\u3164", "\u2060\ufeff\u00ad", "\u034f\u115f", " \u200b ", "\u2800\uffa0\u1160"]


@pytest.mark.parametrize("raw", BLANK_NAMES)
def test_a_name_that_draws_nothing_is_no_name(raw: str) -> None:
    assert display.clean_name(raw) == ""
    assert display.lenient_name(raw) is None
    assert display.lenient_name(raw * 100 + "visible past the cut") is None
    user = {"id": "1", "username": "ada", "global_name": raw, "avatar": None}
    assert display.from_interaction({"user": user, "nick": raw})["displayName"] == "ada"
    queued = MessageEvent.model_validate(_event(displayName=raw, username=raw))
    assert queued.display_data() == {"displayName": None, "username": None}  # as if null: the stored one goes


@pytest.mark.parametrize("raw", ["a\u200bb", "\u0e01\u0e34", "\U0001f600", "\ue000", "x\u3164"])
def test_a_name_with_something_to_draw_keeps_its_invisible_characters(raw: str) -> None:
    assert display.clean_name(raw) == raw


@pytest.mark.parametrize(
    ("value", "ok"),
    [(HASH, True), ("a_" + HASH, True), (HASH.upper(), False), (HASH[:-1], False), (HASH + "\n", False), (None, False)],
)
def test_avatar_hashes(value: object, ok: bool) -> None:
    assert display.is_avatar_hash(value) is ok


def test_interaction_display_data_prefers_the_nickname() -> None:
    user = {"id": "1", "username": "ada", "global_name": "Ada L.", "avatar": HASH}
    assert display.from_interaction({"user": user, "nick": "Countess"}) == {
        "displayName": "Countess",
        "username": "ada",
        "avatar": HASH,
    }
    assert display.from_interaction({"user": user, "nick": None})["displayName"] == "Ada L."
    assert display.from_interaction({"user": {**user, "global_name": None}})["displayName"] == "ada"
    # no avatar on Discord: the stored one is forgotten; a malformed one is ignored (kept as stored)
    assert display.from_interaction({"user": {**user, "avatar": None}})["avatar"] is None
    assert "avatar" not in display.from_interaction({"user": {**user, "avatar": "../../x"}})
    assert "avatar" not in display.from_interaction({"user": {"id": "1", "username": "ada"}})
    assert display.from_interaction({}) == {}
    long = display.from_interaction({"user": {**user, "username": "z" * 300, "global_name": None}})
    assert long["username"] == long["displayName"] == "z" * 100


def test_markdown_is_escaped() -> None:
    escaped = display.escape_markdown("**bold** <@123> @everyone [x](https://e.x) `c` _i_ ~s~ |sp| > q # h")
    for raw in ("**", "<@", "[x]", "](", "`c`", "_i_", "~s~", "|sp|", "https://"):
        assert raw not in escaped
    assert display.escape_markdown("plain name 42") == "plain name 42"


# ---------------------------------------------------------------- the relay's message records


def _event(**extra: object) -> dict[str, object]:
    return {
        "messageId": "1300000000000000001",
        "guildId": "111111111111111111",
        "channelId": "300000000000000001",
        "userId": "222222222222222222",
        "timestamp": int(time.time() * 1000),
        **extra,
    }


def test_an_old_relay_sends_no_display_data_and_queues_none() -> None:
    event = MessageEvent.model_validate(_event())
    assert event.display_data() == {}
    assert not set(event.queued()) & set(display.ATTRIBUTES)  # absent stays absent, never null


def test_display_fields_are_cleaned_and_travel_through_the_queue() -> None:
    event = MessageEvent.model_validate(_event(displayName=" Ada\n ", username="ada", avatar=None))
    assert event.display_data() == {"displayName": "Ada", "username": "ada", "avatar": None}
    again = parse_queued(json.dumps(event.queued()))
    assert again.display_data() == event.display_data()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("displayName", "x" * 101),
        ("username", 42),
        ("username", ["ada"]),
        ("avatar", "not-a-hash"),
        ("avatar", HASH.upper()),
        ("avatar", HASH + "\n"),
    ],
)
def test_bad_display_fields_refuse_the_batch_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as err:
        IngestBody.model_validate({"messages": [_event(), _event(**{field: value})]})
    assert [e["loc"] for e in err.value.errors()] == [("messages", 1, field)]
