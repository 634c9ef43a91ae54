"""Linking through a Minecraft profile service (a fake Mojang on localhost), and offline mode."""

from __future__ import annotations

from tests.support import shop
from tests.support.fake_mojang import fake_profile_service
from tests.support.storage import new_user_id

NOTCH = "069a79f444e94726a5befca90e38aaf5"


def test_link_resolves_the_username_through_the_service(api, monkeypatch):
    with fake_profile_service({"Notch": NOTCH}) as base:
        monkeypatch.setenv("MINECRAFT_PROFILE_API", base)
        user = new_user_id()
        r = api.post("/api/v1/users/link", {"discordid": user, "minecraft_username": "notch"})
        assert r.status == 200, r.body
        assert r.body["uuid"] == NOTCH
        assert api.get(f"/api/v1/users/info?id={NOTCH}").body["discord_id"] == user
        unknown = api.post("/api/v1/users/link", {"discordid": new_user_id(), "minecraft_username": "Nobody123"})
        assert (unknown.status, unknown.error["code"]) == (404, "MINECRAFT_PROFILE_NOT_FOUND")


def test_profile_service_errors_are_503_and_write_nothing(api, monkeypatch):
    with fake_profile_service({}, fail_with=500) as base:
        monkeypatch.setenv("MINECRAFT_PROFILE_API", base)
        user = new_user_id()
        r = api.post("/api/v1/users/link", {"discordid": user, "minecraft_username": "Steve"})
        assert (r.status, r.error["code"]) == (503, "SERVICE_UNAVAILABLE")
        assert api.get(f"/api/v1/users/info?id={user}").status == 404


def test_unreachable_profile_service_is_503(api, monkeypatch):
    monkeypatch.setenv("MINECRAFT_PROFILE_API", "http://127.0.0.1:9")
    r = api.post("/api/v1/users/link", {"discordid": new_user_id(), "minecraft_username": "Steve"})
    assert (r.status, r.error["code"]) == (503, "SERVICE_UNAVAILABLE")


def test_offline_mode_derives_the_offline_uuid(api, monkeypatch):
    from xpshop.minecraft import offline_uuid  # pinned to Minecraft's own value in the unit tests

    monkeypatch.setenv("MINECRAFT_PROFILE_API", "offline")
    name = shop.unique("Offline")[:16]
    r = api.post("/api/v1/users/link", {"discordid": new_user_id(), "minecraft_username": name})
    assert r.body["uuid"] == offline_uuid(name)


def test_a_profile_service_answering_200_without_a_profile_is_503_not_an_unknown_name(api, monkeypatch):
    """A 200 whose body is not a profile (no UUID `id`, a list, not JSON) is the service misbehaving: the
    name may well exist, so it is 503 (retry), never 404 MINECRAFT_PROFILE_NOT_FOUND; nothing is linked."""
    for body in (b'{"id": "zz", "name": "Steve"}', b'{"name": "Steve"}', b"[1, 2]", b"not json", b'"Steve"'):
        with fake_profile_service({}, raw_body=body) as base:
            monkeypatch.setenv("MINECRAFT_PROFILE_API", base)
            user = new_user_id()
            r = api.post("/api/v1/users/link", {"discordid": user, "minecraft_username": "Steve"})
            assert (r.status, r.error["code"]) == (503, "SERVICE_UNAVAILABLE"), (body, r.body)
            assert r.headers["retry-after"] == "1"
            assert api.get(f"/api/v1/users/info?id={user}").status == 404


def test_a_profile_service_answering_200_with_an_empty_body_means_no_such_name(api, monkeypatch):
    """Mojang's older API said "unknown" with an empty answer (204; some proxies turn it into an empty 200)."""
    with fake_profile_service({}, raw_body=b"") as base:
        monkeypatch.setenv("MINECRAFT_PROFILE_API", base)
        r = api.post("/api/v1/users/link", {"discordid": new_user_id(), "minecraft_username": "Steve"})
        assert (r.status, r.error["code"]) == (404, "MINECRAFT_PROFILE_NOT_FOUND")
