"""`make dev` keeps its generated secrets (admin key, card signing key) in .local/ between runs."""

from __future__ import annotations

from local import dev


def test_a_secret_is_generated_once_kept_and_overridden_by_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("XPSHOP_CARD_SIGNING_KEY", raising=False)
    kept = tmp_path / ".local" / "card-signing-key"
    first, generated = dev._kept_secret("XPSHOP_CARD_SIGNING_KEY", kept)
    assert generated and len(first) >= 32 and kept.read_text().strip() == first
    assert kept.stat().st_mode & 0o077 == 0  # the owner's only
    assert dev._kept_secret("XPSHOP_CARD_SIGNING_KEY", kept) == (first, True)
    monkeypatch.setenv("XPSHOP_CARD_SIGNING_KEY", "mine")
    assert dev._kept_secret("XPSHOP_CARD_SIGNING_KEY", kept) == ("mine", False)


def test_the_handlers_get_the_card_key_and_no_ssm_name(monkeypatch):
    monkeypatch.setenv("XPSHOP_CARD_SIGNING_KEY", "local-card-key")
    overrides = dev.local_overrides("http://127.0.0.1:8000", "t", "admin")
    assert overrides["XPSHOP_CARD_SIGNING_KEY"] == "local-card-key" and overrides["CARD_SIGNING_KEY_PARAM"] == ""
    monkeypatch.delenv("XPSHOP_CARD_SIGNING_KEY")
    assert dev.local_overrides("http://127.0.0.1:8000", "t", "admin")["XPSHOP_CARD_SIGNING_KEY"] == "admin-cards"


def test_public_base_url_from_the_shell_reaches_the_handlers(monkeypatch):
    # README: PUBLIC_BASE_URL is a local setting; the template's Globals carry it empty, which must not win.
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://xp.example.org")
    env = dev.local_environment(dev.load_template(dev.TEMPLATE_PATH), dev.local_overrides("http://x", "t", "a"))
    assert env["PUBLIC_BASE_URL"] == "https://xp.example.org"
    monkeypatch.delenv("PUBLIC_BASE_URL")
    env = dev.local_environment(dev.load_template(dev.TEMPLATE_PATH), dev.local_overrides("http://x", "t", "a"))
    assert env["PUBLIC_BASE_URL"] == ""  # the request's own host
