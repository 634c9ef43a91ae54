"""Cursors on DynamoDB Local (moto never returns a LastEvaluatedKey at a partition's end; DynamoDB does when
a page ends on the last item): nextCursor is null exactly when nothing follows, and a cut list says so."""

from __future__ import annotations

from tests.support import shop
from tests.support.storage import new_user_id


def test_a_page_that_ends_the_list_has_no_next_cursor(api):
    """A page ending on the last item said there was more, and its cursor led to an empty page."""
    user = shop.funded_user(api, new_user_id(), 5)  # one ledger entry
    assert api.request("PATCH", "/api/v1/credits/modify", {"id": user, "amount": 1}).status == 200  # two
    whole = api.get(f"/api/v1/users/transactions?id={user}&limit=2").body
    assert (len(whole["transactions"]), whole["nextCursor"]) == (2, None)
    first = api.get(f"/api/v1/users/transactions?id={user}&limit=1").body
    assert len(first["transactions"]) == 1 and first["nextCursor"]
    rest = api.get(f"/api/v1/users/transactions?id={user}&limit=1&cursor={first['nextCursor']}").body
    assert (len(rest["transactions"]), rest["nextCursor"]) == (1, None)
    assert rest["transactions"] != first["transactions"]


def test_every_page_of_a_listing_until_a_null_cursor(api):
    """Walking coupons/list page by page lists every coupon once, and the last page's cursor is null (no
    empty page after it), whatever the page size."""
    for _ in range(3):
        assert api.post("/api/v1/coupons/create", {"code": shop.unique("PAGE"), "credit_grant": 1}).status == 201
    every = [c["id"] for c in api.get("/api/v1/coupons/list").body]
    for size in (1, 2, 3, len(every)):
        seen: list[str] = []
        token = ""
        while True:
            page = api.get(f"/api/v1/coupons/list?limit={size}" + (f"&cursor={token}" if token else "")).body
            assert page["coupons"], (size, seen)  # never an empty page
            seen += [c["id"] for c in page["coupons"]]
            token = page["nextCursor"]
            if token is None:
                break
        assert seen == every, size


def test_uses_limit_at_the_exact_count_says_nothing_more(api):
    buyer = shop.funded_user(api, new_user_id(), 100)
    code = shop.supported_code(api, "EXACT", new_user_id(), buyer, purchases=2)
    for limit, more in ((1, True), (2, False)):
        listed = next(c for c in api.get(f"/api/v1/creatorcodes/list?uses_limit={limit}").body if c["code"] == code)
        assert (len(listed["uses"]), listed["hasMoreUses"]) == (limit, more)
