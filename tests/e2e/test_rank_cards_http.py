"""Rank cards over real HTTP against `make dev`: /rank's embed links a card, and the server answers that link
with the PNG's bytes (the handler's base64 body decoded, as API Gateway does), an ETag and a 304."""

from __future__ import annotations

import io
import json

import pytest
import requests
from PIL import Image

from tests.e2e.conftest import E2E_KEY, Stack
from tests.support import discord as d

G, MEMBER = "123456789012345611", "234567890123456711"
ADMIN = {"Authorization": f"Bearer {E2E_KEY}"}


@pytest.fixture(name="cards")
def cards_stack(stack: Stack) -> tuple[str, d.Signer]:
    return stack.url, stack.signer


def _rank(url: str, signer: d.Signer, user: str) -> dict:
    body = json.dumps(d.command(G, user, "rank")).encode()
    answer = requests.post(f"{url}/discord/interactions", data=body, headers=signer.headers(body), timeout=30)
    assert answer.status_code == 200
    return answer.json()["data"]["embeds"][0]


def test_the_rank_embeds_card_is_served_as_png_bytes(cards):
    url, signer = cards
    assert requests.put(f"{url}/api/xp/guilds/{G}", headers=ADMIN, timeout=30).status_code in (200, 201)
    assert requests.put(f"{url}/api/xp/users/{G}/{MEMBER}", json={"xp": 2_500}, headers=ADMIN, timeout=30).ok
    image_url = _rank(url, signer, MEMBER)["image"]["url"]
    assert image_url.startswith(f"{url}/cards/{G}/{MEMBER}.png?exp=")  # the host Discord reached: this server

    card = requests.get(image_url, timeout=30)
    assert card.status_code == 200
    assert card.headers["Content-Type"] == "image/png"
    assert card.content[:8] == b"\x89PNG\r\n\x1a\n"  # bytes, not base64 text
    assert int(card.headers["Content-Length"]) == len(card.content)
    image = Image.open(io.BytesIO(card.content))
    assert image.size == (934, 282)
    assert card.headers["Cache-Control"] == "private, max-age=300"

    again = requests.get(image_url, headers={"If-None-Match": card.headers["ETag"]}, timeout=30)
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == card.headers["ETag"]

    unsigned = requests.get(f"{url}/cards/{G}/{MEMBER}.png", timeout=30)
    assert unsigned.status_code == 404 and unsigned.json()["error"]["code"] == "NOT_FOUND"
    tampered = requests.get(image_url[:-1] + ("0" if image_url[-1] != "0" else "1"), timeout=30)
    assert tampered.status_code == 404


def test_a_public_guilds_card_needs_no_signature(cards):
    url, signer = cards
    config = {"leaderboard": {"public": True}, "theme": {"embedColor": "#1ABC9C"}}
    assert requests.put(f"{url}/api/xp/config/{G}", json=config, headers=ADMIN, timeout=30).ok
    image_url = _rank(url, signer, MEMBER)["image"]["url"]
    assert "sig=" not in image_url and "?v=" in image_url
    card = requests.get(f"{url}/cards/{G}/{MEMBER}.png", timeout=30)
    assert card.status_code == 200 and card.headers["Cache-Control"] == "public, max-age=300"
    assert Image.open(io.BytesIO(card.content)).format == "PNG"
    head = requests.head(f"{url}/cards/{G}/{MEMBER}.png", timeout=30)  # over the wire: headers only
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["Content-Length"] == card.headers["Content-Length"] == str(len(card.content))
    for name in ("Content-Type", "Cache-Control", "ETag"):
        assert head.headers[name] == card.headers[name], name
