"""`make register-commands` against the fake Discord: a bulk overwrite, global or per guild."""

from __future__ import annotations

from local.register_commands import main
from tests.support.fake_discord import FakeDiscord
from xpshop.discord import definitions

APP = "900000000000000001"


def _env(monkeypatch, fake: FakeDiscord) -> None:
    monkeypatch.setenv("DISCORD_APPLICATION_ID", APP)
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "bot-token")
    monkeypatch.setenv("DISCORD_API_BASE_URL", fake.base_url)


def test_global_registration_uploads_every_definition(monkeypatch, capsys):
    with FakeDiscord(token="bot-token") as fake:
        _env(monkeypatch, fake)
        assert main([]) == 0
        uploaded = fake.commands[(APP, None)]
        assert [c["name"] for c in uploaded] == [c["name"] for c in definitions.definitions()]
        (call,) = fake.calls_to("PUT", f"/applications/{APP}/commands")
        assert call.headers["authorization"] == "Bot bot-token"
    assert f"registered {len(definitions.definitions())} commands globally" in capsys.readouterr().out


def test_guild_registration_and_a_refusal(monkeypatch, capsys):
    guild = "111111111111111111"
    with FakeDiscord(token="bot-token") as fake:
        _env(monkeypatch, fake)
        assert main(["--guild", guild]) == 0
        assert fake.commands[(APP, guild)]
        fake.fail("PUT", r"/applications/.*", 400, 50035, "Invalid Form Body")
        assert main([]) == 1
    assert "Invalid Form Body" in capsys.readouterr().err


def test_missing_configuration_is_explained(monkeypatch, capsys):
    monkeypatch.delenv("DISCORD_APPLICATION_ID", raising=False)
    assert main([]) == 2
    assert "DISCORD_APPLICATION_ID" in capsys.readouterr().err


def test_definitions_are_valid_discord_shapes():
    names = set()
    for command in definitions.definitions():
        assert command["name"] not in names
        names.add(command["name"])
        if command["type"] == definitions.CHAT_INPUT:
            assert command["name"] == command["name"].lower() and 1 <= len(command["description"]) <= 100
        else:
            assert "description" not in command and "options" not in command
        _check_options(command.get("options", []))
    xp = next(c for c in definitions.definitions() if c["name"] == "xp")
    assert xp["default_member_permissions"] == str(definitions.MANAGE_GUILD)


def _check_options(options: list[dict]) -> None:
    assert len(options) <= 25
    required_done = False
    for option in options:
        assert 1 <= len(option["name"]) <= 32 and option["name"] == option["name"].lower()
        assert 1 <= len(option["description"]) <= 100
        if option["type"] in (definitions.SUB_COMMAND, definitions.SUB_COMMAND_GROUP):
            _check_options(option.get("options", []))
        elif option.get("required"):
            assert not required_done, f"required option {option['name']} after an optional one"
        else:
            required_done = True
