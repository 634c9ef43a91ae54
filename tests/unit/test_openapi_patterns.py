"""The patterns the OpenAPI document publishes say exactly what the validators accept: numeric bounds written
as patterns (snowflakes up to 2^64-1, the shop's numbers as strings) and trimmed text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpshop.api.fields import numeric_string_pattern, trimmed_pattern
from xpshop.ids import MAX_SNOWFLAKE, SNOWFLAKE_PATTERN, digits_at_most, is_snowflake

SNOWFLAKE = re.compile(SNOWFLAKE_PATTERN)


@pytest.mark.parametrize(
    "value",
    [
        10**16 - 1,
        10**16,
        10**19 - 1,
        10**19,
        MAX_SNOWFLAKE - 1,
        MAX_SNOWFLAKE,
        MAX_SNOWFLAKE + 1,
        18446744073709551699,
        18446744073709552000,
        99999999999999999999,
    ],
)
def test_the_snowflake_pattern_is_the_uint64_bound(value: int) -> None:
    expected = 10**16 <= value <= MAX_SNOWFLAKE
    assert bool(SNOWFLAKE.fullmatch(str(value))) is expected
    assert is_snowflake(str(value)) is expected


@given(st.integers(min_value=0, max_value=10**21))
def test_the_snowflake_pattern_agrees_with_the_check(value: int) -> None:
    assert bool(SNOWFLAKE.fullmatch(str(value))) is is_snowflake(str(value))


@pytest.mark.parametrize("limit", [0, 1, 9, 10, 19, 100, 345, 1009, 7023, 10**12])
@pytest.mark.parametrize("min_digits", [1, 2, 3])
def test_digits_at_most_matches_exactly_the_range(limit: int, min_digits: int) -> None:
    if len(str(limit)) < min_digits:
        with pytest.raises(ValueError):
            digits_at_most(limit, min_digits)
        return
    pattern = re.compile(f"^(?:{digits_at_most(limit, min_digits)})$")
    low = 0 if min_digits == 1 else 10 ** (min_digits - 1)
    for value in [*range(0, 3000), limit - 1, limit, limit + 1, limit * 10]:
        assert bool(pattern.fullmatch(str(value))) is (low <= value <= limit), value
    assert not pattern.fullmatch("01") and not pattern.fullmatch("")


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_numeric_strings_of_a_signed_range(value: int) -> None:
    pattern = re.compile(numeric_string_pattern(-(10**12), 10**12))
    assert bool(pattern.fullmatch(str(value))) is (abs(value) <= 10**12)


@pytest.mark.parametrize("max_chars", [1, 2, 3, 64])
def test_trimmed_text_counts_what_is_left_after_trimming(max_chars: int) -> None:
    pattern = re.compile(trimmed_pattern(max_chars))
    for length in range(0, 70):
        text = "a" * length
        assert bool(pattern.fullmatch(f" \u3000{text}\t\n")) is (1 <= length <= max_chars)
    assert pattern.fullmatch("a b") if max_chars >= 3 else True
    assert not pattern.fullmatch(" \u0085 ")  # whitespace only: empty once trimmed


# ------------------------------------------------------------------ the shop's URLs


def _url_accepted(url: str) -> bool:
    """Whether the texture URL passes the request model (trimmed like every shop body)."""
    from pydantic import ValidationError

    from xpshop.api.shop.requests.cosmetics import CosmeticUpdate

    try:
        CosmeticUpdate.model_validate({"original_name": "Crown", "texture_source_url": url})
    except ValidationError:
        return False
    return True


def _texture_pattern() -> re.Pattern[str]:
    from xpshop.api.shop.requests.cosmetics import CosmeticUpdate

    schema = CosmeticUpdate.model_json_schema()["properties"]["texture_source_url"]
    return re.compile(next(s for s in schema["anyOf"] if s.get("type") == "string")["pattern"])


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://cdn.example/a.png", True),
        ("http://cdn.example/A.PNG?x=1", True),
        ("  https://cdn.example/a.png\n", True),  # trimmed
        ("ftp://cdn.example/a.png", False),
        ("https://cdn.example/a.png.exe", False),
        ("a.png", False),
        ("https:///a.png", False),
        ("https://cdn.example/a;b.png", True),  # `;` is part of the path (RFC 3986), not parameters
        ("https://cdn.example/a.png;b", False),
        # what a URL parser forgave and the published pattern refuses
        ("https://cdn .example/a.png", False),
        ("https://cdn\u00a0example/a.png", False),
        ("https://[::1]/a.png", False),
        ("https://cdn.example/a\tb.png", False),
        ("https://cdn.example/a\nb.png", False),
        ("https://cdn.example\u2028/a.png", False),
        ("\x00https://cdn.example/a.png", False),
        # what it refused and the pattern accepts (a host it would have NFKC-normalised into a `#`)
        ("https://cdn\uff03example/a.png", True),
    ],
)
def test_shop_urls_follow_the_published_pattern(url: str, ok: bool) -> None:
    assert _url_accepted(url) is ok
    assert bool(_texture_pattern().search(url)) is ok


_URL_PARTS = st.sampled_from(
    [*"ab/.:?#[]@;%\\ \t\r\n\u00a0\u2028\x00\x1c\x7f\u200b\uff03\uff0f\u2100", "png", ".png", "https://", "HTTP://"]
)


@given(st.lists(_URL_PARTS, max_size=12).map("".join))
def test_shop_urls_accepted_exactly_as_the_pattern_says(tail: str) -> None:
    for url in ("https://" + tail, tail):
        assert _url_accepted(url) is bool(_texture_pattern().search(url)), repr(url)
