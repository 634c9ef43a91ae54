"""Files through Discord, below the commands: the multipart encoding of a message with files (read back by a
strict parser and by the fake Discord over real HTTP), the CDN allow-list for attachments, and downloads
from a local fake CDN (declared size, bytes read, status, no redirects)."""

from __future__ import annotations

import email.parser
import email.policy
import json
from collections.abc import Iterator

import pytest

from tests.support.fake_cdn import FakeCdn
from tests.support.fake_discord import FakeDiscord, parse_multipart
from xpshop.discord import attachments
from xpshop.discord.attachments import Attachment, AttachmentRefused
from xpshop.discord.rest import DiscordRest, File, encode_multipart

APP, TOKEN = "900000000000000001", "tok-1"


def _parts(content_type: str, body: bytes) -> list[tuple[str | None, str | None, str, bytes]]:
    """(field name, file name, content type, bytes) of each part, read by the standard library's MIME parser."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    assert message.get_content_type() == "multipart/form-data"
    return [
        (
            part.get_param("name", header="content-disposition"),
            part.get_filename(),
            part.get_content_type(),
            part.get_payload(decode=True),
        )
        for part in message.iter_parts()
    ]


# ---------------------------------------------------------------- multipart encoding


def test_a_message_with_files_is_payload_json_then_files_n_named_in_attachments():
    data = b'{"members": []}\r\n--not-the-boundary\r\n\x00\xff binary'
    content_type, body = encode_multipart(
        {"content": "hi", "flags": 64}, [File("a.json", data, "application/json"), File("b.csv", b"id,xp\r\n")]
    )
    assert content_type.startswith("multipart/form-data; boundary=xpshop-")
    boundary = content_type.split("boundary=", 1)[1]
    assert boundary.encode() not in data
    assert body.endswith(f"--{boundary}--\r\n".encode())
    parts = _parts(content_type, body)
    assert [p[:3] for p in parts] == [
        ("payload_json", None, "application/json"),
        ("files[0]", "a.json", "application/json"),
        ("files[1]", "b.csv", "application/octet-stream"),
    ]
    assert json.loads(parts[0][3]) == {
        "content": "hi",
        "flags": 64,
        "attachments": [{"id": 0, "filename": "a.json"}, {"id": 1, "filename": "b.csv"}],
    }
    assert parts[1][3] == data and parts[2][3] == b"id,xp\r\n"  # bytes exactly as given


def test_file_names_cannot_break_the_part_headers():
    content_type, body = encode_multipart({}, [File('x"\r\nContent-Type: text/html\r\n\r\n.json', b"[]")])
    (_, (field, filename, kind, data)) = _parts(content_type, body)
    assert field == "files[0]" and kind == "application/octet-stream" and data == b"[]"
    assert filename is not None and '"' not in filename and "\r" not in filename and "\n" not in filename


def test_the_boundary_never_occurs_in_a_file(monkeypatch):
    import secrets

    tokens = iter(["aa" * 16, "bb" * 16])
    monkeypatch.setattr(secrets, "token_hex", lambda _n: next(tokens))
    content_type, body = encode_multipart({}, [File("f.txt", b"xpshop-" + b"aa" * 16)])
    assert content_type.endswith("xpshop-" + "bb" * 16)
    assert _parts(content_type, body)[1][3] == b"xpshop-" + b"aa" * 16


def test_the_rest_client_uploads_files_and_the_fake_discord_reads_them_back():
    with FakeDiscord(token="bot") as fake:
        client = DiscordRest(None, fake.base_url, max_attempts=1)
        answer = client.edit_original_response(
            APP, TOKEN, {"embeds": [{"description": "done"}]}, files=[File("x.json", b"[1,2]", "application/json")]
        )
        plain = client.edit_original_response(APP, TOKEN, {"content": "no file"})
        call = fake.calls_to("PATCH", f"/webhooks/{APP}/{TOKEN}/messages/@original")[0]
    assert "authorization" not in call.headers  # interaction webhooks carry their token in the path
    assert call.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert call.json == {"embeds": [{"description": "done"}], "attachments": [{"id": 0, "filename": "x.json"}]}
    assert [(f.field, f.filename, f.content_type, f.data) for f in call.files] == [
        ("files[0]", "x.json", "application/json", b"[1,2]")
    ]
    assert answer["attachments"][0]["filename"] == "x.json" and answer["attachments"][0]["size"] == 5
    assert [len(files) for files in fake.webhook_files[(APP, TOKEN)]] == [1, 0]
    assert "attachments" not in plain


def test_the_fake_discord_refuses_a_file_not_named_in_attachments():
    """The fake is strict like Discord, so a broken encoding fails the tests that use it."""
    import urllib.error
    import urllib.request

    content_type, body = encode_multipart({}, [File("x.json", b"[]")])
    broken = body.replace(b'"filename":"x.json"', b'"filename":"y.json"')
    with pytest.raises(ValueError, match=r"not named in payload_json\.attachments"):
        parse_multipart(content_type, broken)
    with FakeDiscord() as fake:
        request = urllib.request.Request(
            f"{fake.base_url}/webhooks/{APP}/{TOKEN}", data=broken, headers={"Content-Type": content_type}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 400
        assert fake.webhook_messages == {}


# ---------------------------------------------------------------- the CDN allow-list


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.discordapp.com/attachments/1/2/levels.json",
        "https://cdn.discordapp.com/ephemeral-attachments/1/2/levels.json?ex=1&is=2&hm=3",
        "https://media.discordapp.net/attachments/1/2/board.csv",
        "https://cdn.discordapp.com:443/attachments/1/2/x.json",
    ],
)
def test_discords_cdn_attachment_urls_are_allowed(monkeypatch, url):
    monkeypatch.delenv(attachments.CDN_ENV, raising=False)
    assert attachments.allowed(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.discordapp.com/attachments/1/2/x.json",  # not HTTPS
        "https://cdn.discordapp.com.evil.example/attachments/1/2/x.json",
        "https://evil.example/cdn.discordapp.com/attachments/1/2/x.json",
        "https://user@cdn.discordapp.com/attachments/1/2/x.json",
        "https://cdn.discordapp.com@evil.example/attachments/1/2/x.json",
        "https://cdn.discordapp.com:8443/attachments/1/2/x.json",
        "https://cdn.discordapp.com/avatars/1/abc.png",  # the CDN, but not an attachment
        "https://discord.com/attachments/1/2/x.json",
        "https://127.0.0.1/attachments/1/2/x.json",
        "file:///etc/passwd",
        "ftp://cdn.discordapp.com/attachments/1/2/x.json",
        "https://cdn.discordapp.com:notaport/attachments/x",
        "",
        "attachments/1/2/x.json",
    ],
)
def test_anything_else_is_refused(monkeypatch, url):
    monkeypatch.delenv(attachments.CDN_ENV, raising=False)
    assert not attachments.allowed(url)


def test_the_configured_cdn_is_allowed_with_its_scheme_and_port_only(monkeypatch):
    monkeypatch.setenv(attachments.CDN_ENV, "http://127.0.0.1:8123/")
    assert attachments.allowed("http://127.0.0.1:8123/attachments/1/2/x.json")
    assert not attachments.allowed("http://127.0.0.1:8124/attachments/1/2/x.json")
    assert not attachments.allowed("https://127.0.0.1:8123/attachments/1/2/x.json")
    assert not attachments.allowed("http://127.0.0.1:8123/avatars/1/x.png")
    assert attachments.allowed("https://cdn.discordapp.com/attachments/1/2/x.json")  # Discord's own still are


# ---------------------------------------------------------------- downloads


@pytest.fixture
def cdn(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCdn]:
    with FakeCdn() as fake:
        monkeypatch.setenv(attachments.CDN_ENV, fake.base_url)
        yield fake


def _attachment(cdn: FakeCdn, path: str, size: int | None) -> Attachment:
    return Attachment("1", path.rsplit("/", 1)[1], size, cdn.base_url + path + "?ex=1", "application/json")


def test_download_reads_the_file(cdn):
    cdn.serve("/attachments/1/2/a.json", b"[]" * 100)
    assert attachments.download(_attachment(cdn, "/attachments/1/2/a.json", 200), max_bytes=200) == b"[]" * 100


def test_a_declared_size_over_the_cap_is_refused_before_any_request(cdn):
    cdn.serve("/attachments/1/2/a.json", b"[]")
    with pytest.raises(AttachmentRefused, match=r"a\.json is 201 bytes; an import reads at most 200 bytes"):
        attachments.download(_attachment(cdn, "/attachments/1/2/a.json", 201), max_bytes=200)
    assert cdn.paths() == []


@pytest.mark.parametrize("chunked", [False, True])
def test_more_bytes_than_the_cap_are_refused_while_reading(cdn, chunked):
    cdn.serve("/attachments/1/2/a.json", b"x" * 201, chunked=chunked)
    with pytest.raises(AttachmentRefused, match="larger than 200 bytes"):
        attachments.download(_attachment(cdn, "/attachments/1/2/a.json", 10), max_bytes=200)


def test_redirects_and_errors_are_not_followed(cdn):
    cdn.serve("/attachments/1/2/a.json", b"", status=302, headers={"Location": "https://evil.example/x"})
    with pytest.raises(AttachmentRefused, match="answered 302"):
        attachments.download(_attachment(cdn, "/attachments/1/2/a.json", 0))
    with pytest.raises(AttachmentRefused, match="answered 404"):
        attachments.download(_attachment(cdn, "/attachments/1/2/gone.json", 0))
    assert cdn.paths() == ["/attachments/1/2/a.json", "/attachments/1/2/gone.json"]


def test_an_attachment_the_interaction_does_not_resolve_is_refused():
    with pytest.raises(AttachmentRefused, match="attach it again"):
        Attachment.resolve({"attachments": {}}, "5")
    found = Attachment.resolve(
        {"attachments": {"5": {"id": "5", "filename": "a.csv", "size": 3, "url": "https://cdn.discordapp.com/x"}}},
        "5",
    )
    assert (found.filename, found.size, found.content_type) == ("a.csv", 3, None)


# ---------------------------------------------------------------- answers


def _summary(**over):
    from xpshop.discord.file_commands import import_summary

    result = {
        "mode": "replace",
        "dryRun": False,
        "format": "csv",
        "received": 12,
        "imported": 5,
        "unchanged": 0,
        "rejected": 7,
        "errors": [{"row": n, "id": f"id{n}", "reason": "xp must be a whole number"} for n in range(2, 9)],
        "roleRewards": None,
        "jobId": "r" + "0" * 23,
        "total": 5,
        **over,
    }
    return import_summary("111", "f.csv", result, queued=False)


def test_the_import_answer_lists_the_first_rejected_rows_and_counts_the_rest():
    text = _summary()
    assert "Received 12 rows: 5 imported, 0 unchanged, 7 rejected." in text
    assert [line for line in text.splitlines() if line.startswith("•")] == [
        f"• row {n} (id id{n}): xp must be a whole number" for n in range(2, 7)
    ]
    assert "…and 2 more rejected rows." in text and "job" not in text


def test_the_import_answer_names_the_role_rewards_it_skipped():
    skipped = {"entry": "role_rewards[1]", "level": 5, "roleId": "2", "reason": "role_rewards[1]: level 5 ..."}
    rewards = {"received": 2, "added": 1, "replaced": 0, "kept": 0, "skipped": 1, "errors": [skipped]}
    text = _summary(roleRewards=rewards, rejected=0, errors=[])
    assert "Role rewards from the file: received 2, added 1, replaced 0, kept 0, skipped 1." in text
    assert "• role_rewards[1]: level 5 ..." in text.splitlines()


def test_the_answer_for_a_job_gives_its_id_and_status_route():
    from xpshop.discord.file_commands import import_summary

    result = {
        "mode": "add",
        "dryRun": False,
        "format": "json",
        "received": 9000,
        "imported": 0,
        "unchanged": 0,
        "rejected": 0,
        "errors": [],
        "roleRewards": None,
        "jobId": "r" + "a" * 23,
        "total": 9000,
    }
    text = import_summary("111", "big.json", result, queued=True)
    assert f"job `r{'a' * 23}` (9,000 rows)" in text
    assert f"`GET /api/xp/import/111/jobs/r{'a' * 23}`" in text


@pytest.mark.parametrize(
    ("declared", "limit"),
    [(None, 8 * 1024 * 1024), (25 * 1024 * 1024, 25 * 1024 * 1024), ("big", 8 * 1024 * 1024), (True, 8 * 1024 * 1024)],
)
def test_the_upload_limit_is_the_interactions_own(declared, limit):
    from xpshop.discord.file_commands import upload_limit
    from xpshop.discord.model import Interaction

    # well formed (Interaction.parse refuses ids that are not snowflakes), only the limit varies
    raw = {"id": "1300000000000000001", "type": 2, "data": {"name": "xp"}, "user": {"id": "200000000000000001"}}
    if declared is not None:
        raw["attachment_size_limit"] = declared
    assert upload_limit(Interaction.parse(raw)) == limit
