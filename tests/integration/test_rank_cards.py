"""GET /cards/{guildId}/{userId}.png on DynamoDB Local, through the local API Gateway emulation: who may see a
card (public board, hidden member, signed URL), the one 404 for everything else, ETag/304, the avatar from the
(fake) CDN only, and /rank's embed pointing at a card the function then serves."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image, ImageDraw

from local import REPO_ROOT, events
from tests.conftest import CARD_SIGNING_KEY
from tests.support import discord as d
from tests.support.fake_cdn import FakeCdn, png
from tests.support.storage import new_user_id
from xpshop.web import avatars, card_urls

AVATAR = "0123456789abcdef0123456789abcdef"
SCREENSHOT = REPO_ROOT / "docs" / "img" / "rank-card.png"


def _profile(guild: str, user: str, **fields: object) -> None:
    """Display data on the member item, as the relay and the interactions write it."""
    from xpshop.store import keys
    from xpshop.store.table import table

    names = {f"#{k}": k for k in fields}
    table().update_item(
        Key=keys.member(guild, user),
        UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={f":{k}": v for k, v in fields.items()},
        ConditionExpression="attribute_exists(PK)",
    )


def _member(api, guild: str, xp: int = 1_500, **profile: object) -> str:
    user = new_user_id()
    assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
    if profile:
        _profile(guild, user, **profile)
    return user


def _make_public(api, guild: str, public: bool = True, **extra: object) -> None:
    assert api.put(f"/api/xp/config/{guild}", {"leaderboard": {"public": public}, **extra}).status == 200


def _card(api, guild: str, user: str, query: str = "", headers: dict[str, str] | None = None):
    return api.get(f"/cards/{guild}/{user}.png" + (f"?{query}" if query else ""), key=None, headers=headers)


def _signed(guild: str, user: str, now: float | None = None) -> str:
    return card_urls.signed_query(guild, user, now=now, key=CARD_SIGNING_KEY) or ""


def _is_card_png(result) -> bool:
    image = Image.open(io.BytesIO(result.content))
    return image.format == "PNG" and image.size == (934, 282) and result.headers["content-type"] == "image/png"


def _assert_not_found(result) -> None:
    assert result.status == 404, result.status
    assert result.body == {"success": False, "error": {"code": "NOT_FOUND", "message": "No such card"}}
    assert result.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- visibility


def test_a_private_guilds_cards_need_a_signed_url(api, guild):
    user = _member(api, guild, displayName="Private Pat")
    _assert_not_found(_card(api, guild, user))
    shown = _card(api, guild, user, _signed(guild, user))
    assert shown.status == 200 and _is_card_png(shown)
    assert shown.headers["cache-control"] == "private, max-age=300"


def test_a_public_guilds_cards_are_public_except_a_hidden_members(api, guild):
    _make_public(api, guild)
    shown = _member(api, guild, displayName="Open Olive")
    hidden = _member(api, guild, displayName="Hidden Hal", hidden=True)
    public = _card(api, guild, shown)
    assert public.status == 200 and _is_card_png(public)
    assert public.headers["cache-control"] == "public, max-age=300"
    _assert_not_found(_card(api, guild, hidden))
    signed = _card(api, guild, hidden, _signed(guild, hidden))
    assert signed.status == 200 and _is_card_png(signed)
    assert signed.headers["cache-control"] == "private, max-age=300"
    # a member who hides later is gone at once from this function (caches: max-age)
    _profile(guild, shown, hidden=True)
    _assert_not_found(_card(api, guild, shown))


def test_closing_the_board_closes_the_cards(api, guild):
    _make_public(api, guild)
    user = _member(api, guild)
    assert _card(api, guild, user).status == 200
    _make_public(api, guild, public=False)
    _assert_not_found(_card(api, guild, user))


def test_opening_the_board_opens_the_cards_at_once_in_any_container(api, guild, monkeypatch):
    """A container that answered a private guild's card with the 404 must not keep the private config for
    its cache time: the board opens at once (README), and its preview image is that card. Another container
    hears nothing of the config change, which dropping the cache invalidation stands for."""
    from xpshop.service import curves

    user = _member(api, guild)
    _assert_not_found(_card(api, guild, user))  # this container has now read the private config
    monkeypatch.setattr(curves, "forget", lambda guild_id=None: None)
    _make_public(api, guild)
    shown = _card(api, guild, user)
    assert shown.status == 200 and _is_card_png(shown)
    assert api.get(f"/leaderboard/{guild}", key=None).status == 200


@pytest.mark.parametrize("case", ["expired", "tampered", "other member", "other guild", "malformed", "repeated"])
def test_bad_signatures_are_the_same_404(api, guild, case):
    user, other = _member(api, guild), _member(api, guild)
    query = parse_qs(_signed(guild, user))
    exp, sig = query["exp"][0], query["sig"][0]
    if case == "expired":
        past = time.time() - card_urls.TTL_SECONDS - 10
        exp, sig = (parse_qs(_signed(guild, user, now=past))[k][0] for k in ("exp", "sig"))
    elif case == "tampered":
        sig = ("1" if sig[0] == "0" else "0") + sig[1:]
    elif case == "other member":
        exp, sig = (parse_qs(_signed(guild, other))[k][0] for k in ("exp", "sig"))
    elif case == "other guild":
        exp, sig = (parse_qs(_signed("999999999999999999", user))[k][0] for k in ("exp", "sig"))
    elif case == "malformed":
        exp, sig = "soon", "%ZZ"
    _assert_not_found(_card(api, guild, user, f"exp={exp}&sig={sig}" + ("&sig=00" if case == "repeated" else "")))


def test_a_public_card_ignores_a_stale_signature(api, guild):
    """An old embed's expired signature on a card that has since become public still shows it."""
    _make_public(api, guild)
    user = _member(api, guild)
    past = time.time() - card_urls.TTL_SECONDS - 10
    assert _card(api, guild, user, _signed(guild, user, now=past)).status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/cards/{guild}/{unknown}.png",
        "/cards/999999999999999991/{user}.png",
        "/cards/{guild}/{user}.jpg",
        "/cards/{guild}/{user}",
        "/cards/{guild}/{user}.png.png",
        "/cards/{guild}/abc.png",
        "/cards/{guild}/-1.png",
        "/cards/{guild}/{user}%00.png",
        "/cards/not-a-guild/{user}.png",
        "/cards/{guild}/99999999999999999999999.png",
        "/cards/{guild}/.png",
    ],
)
def test_unknown_or_malformed_is_the_same_404(api, guild, path):
    _make_public(api, guild)
    user = _member(api, guild)
    target = path.format(guild=guild, user=user, unknown=new_user_id())
    _assert_not_found(api.get(target, key=None))
    # signed or not, an unknown member is unknown
    if "{unknown}" in path:
        unknown = target.split("/")[-1].removesuffix(".png")
        _assert_not_found(api.get(target + "?" + _signed(guild, unknown), key=None))


def test_only_get_and_head_are_routed(api, guild):
    _make_public(api, guild)
    user = _member(api, guild)
    for method in ("POST", "PUT", "DELETE"):
        result = api.request(method, f"/cards/{guild}/{user}.png", key=None)
        assert result.status in (404, 405), (method, result.status)


def _headers(result) -> dict[str, str]:
    return {k: v for k, v in result.headers.items() if k != "apigw-requestid"}


def test_head_answers_like_get_without_the_body(api, guild):
    """HEAD: the GET's status and headers (Content-Type, Cache-Control, ETag, Content-Length of the PNG), no
    body; for a public card, a signed one, a 304 and the one 404."""
    _make_public(api, guild)
    shown = _member(api, guild, displayName="Headed Hana")
    hidden = _member(api, guild, hidden=True)
    etag = _card(api, guild, shown).headers["etag"]
    cases = [
        (f"/cards/{guild}/{shown}.png", {}),
        (f"/cards/{guild}/{hidden}.png?{_signed(guild, hidden)}", {}),
        (f"/cards/{guild}/{shown}.png", {"If-None-Match": etag}),
        (f"/cards/{guild}/{hidden}.png", {}),
        (f"/cards/{guild}/nobody.png", {}),
    ]
    statuses = []
    for target, headers in cases:
        got = api.get(target, key=None, headers=headers)
        head = api.request("HEAD", target, key=None, headers=headers)
        assert (head.status, head.content) == (got.status, b""), target
        expected = _headers(got)
        if got.status != 304:
            expected["content-length"] = str(len(got.content))
        assert _headers(head) == expected, target
        statuses.append(got.status)
    assert statuses == [200, 200, 304, 404, 404]
    assert _headers(api.request("HEAD", cases[0][0], key=None))["content-type"] == "image/png"


# ---------------------------------------------------------------- caching


def test_etag_and_304(api, guild):
    _make_public(api, guild)
    user = _member(api, guild, displayName="Cached Cleo")
    first = _card(api, guild, user)
    etag = first.headers["etag"]
    again = _card(api, guild, user, headers={"If-None-Match": etag})
    assert again.status == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["cache-control"] == "public, max-age=300"
    assert _card(api, guild, user, headers={"If-None-Match": f'"other", W/{etag}'}).status == 304
    assert _card(api, guild, user, headers={"If-None-Match": '"other"'}).status == 200
    # the same card twice: the same bytes and ETag; a change of XP: both change
    assert _card(api, guild, user).content == first.content
    api.post(f"/api/xp/users/{guild}/{user}", {"amount": 10})
    api.before_read()
    changed = _card(api, guild, user, headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["etag"] != etag and changed.content != first.content


def test_a_hidden_member_is_not_revealed_by_a_matching_etag(api, guild):
    _make_public(api, guild)
    user = _member(api, guild)
    etag = _card(api, guild, user).headers["etag"]
    _profile(guild, user, hidden=True)
    _assert_not_found(_card(api, guild, user, headers={"If-None-Match": etag}))


# ---------------------------------------------------------------- avatars and colours


def test_the_avatar_comes_from_the_cdn_and_nothing_else_is_fetched(api, guild, monkeypatch):
    with FakeCdn() as cdn:
        monkeypatch.setenv(avatars.CDN_ENV, cdn.base_url)
        avatars.clear_cache()
        cdn.serve("/background.png", png(64))
        _make_public(api, guild, theme={"embedColor": "#00AA88", "backgroundUrl": f"{cdn.base_url}/background.png"})
        user = _member(api, guild, displayName="Avatar Ava", username="ava", avatar=AVATAR)
        cdn.serve(f"/avatars/{user}/{AVATAR}.png", png(256, (10, 200, 30)))
        with_avatar = _card(api, guild, user)
        assert with_avatar.status == 200
        image = Image.open(io.BytesIO(with_avatar.content)).convert("RGB")
        assert image.getpixel((52 + 30, 141)) == (10, 200, 30)  # inside the avatar circle: the CDN's picture
        assert _card(api, guild, user).status == 200  # cached: one fetch
        assert cdn.paths() == [f"/avatars/{user}/{AVATAR}.png"]  # never the configured background
        # the CDN failing: the card is still served, with the initial on the accent colour
        other = _member(api, guild, displayName="Broken Bo", avatar="f" * 32)
        cdn.serve(f"/avatars/{other}/{'f' * 32}.png", b"not an image")
        fallback = _card(api, guild, other)
        assert fallback.status == 200
        drawn = Image.open(io.BytesIO(fallback.content)).convert("RGB")
        assert drawn.getpixel((52 + 30, 141)) == (0x00, 0xAA, 0x88)
    avatars.clear_cache()


def test_a_member_without_avatar_or_names_still_has_a_card(api, guild):
    _make_public(api, guild)
    user = _member(api, guild, xp=0)
    result = _card(api, guild, user)
    assert result.status == 200 and _is_card_png(result)


# ---------------------------------------------------------------- Discord: /rank and View rank


def _embed(answer: dict) -> dict:
    return answer["data"]["embeds"][0]


def _follow(api, url: str):
    """GET an embed's image URL through the local API (its host is wherever the webhook was reached)."""
    parts = urlsplit(url)
    return api.get(parts.path + (f"?{parts.query}" if parts.query else ""), key=None)


def test_rank_embeds_a_signed_card_in_a_private_guild_that_the_function_serves(api, guild, discord_app):
    user = _member(api, guild, xp=900, displayName="Rank Rae")
    api.before_read()
    status, answer = d.call(discord_app.signer, d.command(guild, user, "rank"))
    assert status == 200
    embed = _embed(answer)
    url = embed["image"]["url"]
    parts = urlsplit(url)
    assert parts.path == f"/cards/{guild}/{user}.png"
    assert set(parse_qs(parts.query)) == {"exp", "sig"}
    assert f"Rank card: Member, rank 1 of 1, level {embed['fields'][1]['value']}" in embed["description"]
    assert [f["name"] for f in embed["fields"]][:3] == ["Rank", "Level", "XP"]  # the numbers stay as fields
    served = _follow(api, url)
    assert served.status == 200 and _is_card_png(served)
    _assert_not_found(_card(api, guild, user))  # without the signature: nothing


def test_rank_embeds_a_plain_card_url_in_a_public_guild_and_signs_a_hidden_members(api, guild, discord_app):
    _make_public(api, guild)
    shown = _member(api, guild, xp=900)
    hidden = _member(api, guild, xp=800, hidden=True)
    api.before_read()
    _, answer = d.call(discord_app.signer, d.command(guild, shown, "rank"))
    plain = urlsplit(_embed(answer)["image"]["url"])
    assert set(parse_qs(plain.query)) == {"v"}
    assert _follow(api, _embed(answer)["image"]["url"]).status == 200
    _, answer = d.call(discord_app.signer, d.user_command(guild, shown, hidden))  # View rank on a hidden member
    url = _embed(answer)["image"]["url"]
    assert set(parse_qs(urlsplit(url).query)) == {"exp", "sig"}
    assert _follow(api, url).status == 200


def test_the_embed_url_uses_the_host_discord_reached(api, guild, discord_app, monkeypatch):
    user = _member(api, guild)
    api.before_read()
    payload = d.command(guild, user, "rank")
    body = json.dumps(payload).encode()
    event = events.interaction_event(
        body, {**discord_app.signer.headers(body), "host": "abc.execute-api.us-east-1.amazonaws.com"}
    )
    event["requestContext"]["domainName"] = "abc.execute-api.us-east-1.amazonaws.com"
    handler, context = d.webhook()
    url = _embed(json.loads(handler(event, context)["body"]))["image"]["url"]
    assert url.startswith(f"https://abc.execute-api.us-east-1.amazonaws.com/cards/{guild}/{user}.png?")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://xp.example.org")
    url = _embed(json.loads(handler(event, context)["body"]))["image"]["url"]
    assert url.startswith(f"https://xp.example.org/cards/{guild}/{user}.png?")


def test_without_a_signing_key_a_private_card_has_no_image_but_the_numbers(api, guild, discord_app, monkeypatch):
    user = _member(api, guild)
    api.before_read()
    monkeypatch.delenv("XPSHOP_CARD_SIGNING_KEY")
    _, answer = d.call(discord_app.signer, d.command(guild, user, "rank"))
    embed = _embed(answer)
    assert "image" not in embed and embed["fields"][0]["name"] == "Rank"
    _assert_not_found(_card(api, guild, user, _signed(guild, user)))  # nothing verifies without the key


# ---------------------------------------------------------------- the README's picture


def test_the_readme_card(api, guild, monkeypatch):
    """Writes docs/img/rank-card.png when XPSHOP_UPDATE_SCREENSHOTS=1 (the committed one is checked to be a card)."""
    with FakeCdn() as cdn:
        monkeypatch.setenv(avatars.CDN_ENV, cdn.base_url)
        avatars.clear_cache()
        _make_public(api, guild, theme={"embedColor": "#E67E22"})
        for n in range(4):
            _member(api, guild, xp=9_000 - n * 1_000)
        user = _member(api, guild, xp=4_321, displayName="Aurora Ødegård", username="aurora", avatar=AVATAR)
        cdn.serve(f"/avatars/{user}/{AVATAR}.png", _demo_avatar())
        api.before_read()
        result = _card(api, guild, user)
        assert result.status == 200 and _is_card_png(result)
        assert len(result.content) <= 150 * 1024
        if os.environ.get("XPSHOP_UPDATE_SCREENSHOTS") == "1":
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            SCREENSHOT.write_bytes(result.content)
    avatars.clear_cache()
    assert Image.open(Path(SCREENSHOT)).size == (934, 282)


def _demo_avatar() -> bytes:
    """A gradient with a face-like disc: something that looks like a picture, made here (no image data)."""
    image = Image.linear_gradient("L").resize((256, 256)).convert("RGB")
    image = Image.merge("RGB", (image.getchannel(0), image.rotate(90).getchannel(0), Image.new("L", (256, 256), 190)))
    draw = ImageDraw.Draw(image)
    draw.ellipse((78, 50, 178, 150), fill=(250, 224, 196))
    draw.ellipse((48, 150, 208, 300), fill=(52, 73, 94))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_an_unreadable_signing_key_still_serves_public_cards(api, guild, monkeypatch):
    """Deployed, the key comes from SSM: if that fails, signed URLs are refused (404), public cards served."""
    _make_public(api, guild)
    shown, hidden = _member(api, guild), _member(api, guild, hidden=True)
    query = _signed(guild, hidden)
    monkeypatch.delenv("XPSHOP_CARD_SIGNING_KEY")
    monkeypatch.setenv("CARD_SIGNING_KEY_PARAM", "/xpshop/missing")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("ssm unavailable")

    monkeypatch.setattr("aws_lambda_powertools.utilities.parameters.get_parameter", broken)
    assert _card(api, guild, shown).status == 200
    _assert_not_found(_card(api, guild, hidden, query))


def test_whatever_the_url_the_answer_is_a_card_or_the_404(api, guild):
    """Fuzzed ids and query strings: never a 5xx, never anything but a card or the one 404."""
    from urllib.parse import quote, urlencode

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    _make_public(api, guild)
    user = _member(api, guild)
    ids = st.one_of(st.just(guild), st.just(user), st.from_regex(r"[0-9]{1,22}", fullmatch=True), st.text(max_size=30))
    words = st.one_of(st.none(), st.text(max_size=80), st.from_regex(r"[0-9a-f]{64}", fullmatch=True))

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(g=ids, u=ids, suffix=st.sampled_from([".png", ".PNG", "", ".png/x", ".gif"]), exp=words, sig=words)
    def check(g: str, u: str, suffix: str, exp: str | None, sig: str | None) -> None:
        query = urlencode({k: v for k, v in (("exp", exp), ("sig", sig)) if v is not None})
        path = f"/cards/{quote(g, safe='')}/{quote(u + suffix, safe='')}" + (f"?{query}" if query else "")
        result = api.get(path, key=None)
        if result.status == 200:
            assert (g, u, suffix) == (guild, user, ".png") and _is_card_png(result)
        else:
            assert result.status == 404, (path, result.status, result.body)

    check()
