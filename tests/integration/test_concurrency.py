"""Concurrency rules, with real parallel requests from several processes against DynamoDB Local."""

from __future__ import annotations

import random

from tests.support.storage import member_item, new_user_id


def _consistent(item: dict) -> None:
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import keys

    p = DEFAULT_CURVE.progress(item["xp"])
    assert (item["level"], item["inLevel"], item["toNext"]) == (p.level, p.in_level, p.to_next)
    assert item["score"] == keys.score(item["xp"], item["userId"])


def test_fifty_parallel_adds_apply_exactly_once_each(api, guild, parallel):
    user = new_user_id()
    path = f"/api/xp/users/{guild}/{user}"
    results = parallel.run([("POST", path, {"amount": 10}, None)] * 50)
    assert [status for status, _ in results] == [200] * 50
    item = member_item(guild, user)
    assert item["xp"] == 500
    _consistent(item)
    # every add saw a distinct old value: no two requests applied on the same state
    assert sorted(body["data"]["oldXp"] for _, body in results) == list(range(0, 500, 10))
    assert sum(body["data"]["leveledUp"] for _, body in results) == 2  # 155 and 375 crossed once each
    stats = api.get(f"/api/xp/stats/{guild}").data
    assert stats["xp"]["total"] == 500
    assert stats["users"]["total"] == 1
    assert stats["levels"]["distribution"] == {"2": 1}


def test_parallel_adds_and_removes_keep_level_and_xp_in_step(api, guild, parallel):
    user = new_user_id()
    path = f"/api/xp/users/{guild}/{user}"
    api.put(path, {"xp": 3000})
    rng = random.Random(7)
    ops = [("POST" if rng.random() < 0.5 else "DELETE", path, {"amount": rng.randint(1, 120)}, None) for _ in range(60)]
    results = parallel.run(ops)
    assert all(status == 200 for status, _ in results)
    expected = 3000 + sum(b["amount"] if m == "POST" else -b["amount"] for m, _, b, _ in ops)
    item = member_item(guild, user)
    assert item["xp"] == expected  # removals never reach 0 here, so the order does not matter
    _consistent(item)
    assert api.get(f"/api/xp/stats/{guild}").data["xp"]["total"] == expected


def test_parallel_reward_adds_lose_nothing(api, guild, parallel):
    path = f"/api/xp/config/{guild}/rewards"
    requests = [
        ("POST", path, {"level": level, "roleId": str(600000000000000000 + level)}, None) for level in range(1, 21)
    ]
    results = parallel.run(requests)
    assert all(status == 200 for status, _ in results)
    assert [r["level"] for r in api.get(path).data["rewards"]] == list(range(1, 21))


def test_parallel_duplicate_rewards_one_wins(api, guild, parallel):
    path = f"/api/xp/config/{guild}/rewards"
    requests = [("POST", path, {"level": 7, "roleId": str(600000000000000100 + i)}, None) for i in range(8)]
    statuses = sorted(status for status, _ in parallel.run(requests))
    assert statuses == [200] + [400] * 7
    assert api.get(path).data["count"] == 1


def test_parallel_retries_with_one_idempotency_key_apply_once(api, guild, parallel):
    user = new_user_id()
    path = f"/api/xp/users/{guild}/{user}"
    headers = {"Idempotency-Key": "award-123"}
    results = parallel.run([("POST", path, {"amount": 25}, headers)] * 8)
    ok = [body for status, body in results if status == 200]
    in_progress = [body for status, body in results if status == 409]
    assert len(ok) + len(in_progress) == 8
    assert all(body["error"]["code"] == "REQUEST_IN_PROGRESS" for body in in_progress)
    assert all(body["data"]["newXp"] == 25 for body in ok)
    assert member_item(guild, user)["xp"] == 25
    replay = api.post(path, {"amount": 25}, headers=headers)
    assert replay.data["newXp"] == 25
    assert member_item(guild, user)["xp"] == 25


def test_idempotency_key_reused_with_another_body_is_refused(api, guild, parallel):
    path = f"/api/xp/users/{guild}/{new_user_id()}"
    headers = {"Idempotency-Key": "k-1"}
    assert api.post(path, {"amount": 5}, headers=headers).status == 200
    r = api.post(path, {"amount": 6}, headers=headers)
    assert (r.status, r.error["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")


def test_failed_request_is_not_cached_by_its_key(api, guild, parallel):
    path = f"/api/xp/users/{guild}/{new_user_id()}"
    headers = {"Idempotency-Key": "k-2"}
    assert api.delete(path, {"amount": 5}, headers=headers).status == 404
    api.put(path, {"xp": 100})
    assert api.delete(path, {"amount": 5}, headers=headers).data["newXp"] == 95


def test_parallel_removes_clamp_at_zero_exactly(api, guild, parallel):
    user = new_user_id()
    path = f"/api/xp/users/{guild}/{user}"
    api.put(path, {"xp": 100})
    results = parallel.run([("DELETE", path, {"amount": 10}, None)] * 20)
    assert all(status == 200 for status, _ in results)
    removed = sum(body["data"]["oldXp"] - body["data"]["newXp"] for _, body in results)
    assert removed == 100  # ten removals took 10 each, the rest found 0 and removed nothing
    item = member_item(guild, user)
    assert item["xp"] == 0
    _consistent(item)
    assert api.get(f"/api/xp/stats/{guild}").data["xp"]["total"] == 0
