"""Response shapes of the shop API (/api/v1): the seed's shapes, stated as models for the OpenAPI document
and for contract tests (extra fields forbidden, so the document cannot drift from the API). Routes document
them bare with `api.envelope.shop_responses`.

One module per function (`users`, `cosmetics`, `categories`, `credits`, `coupons`, `creator_codes`; `common`
for what several share): a function's handler imports its own module, so its cold start does not define the
other functions' models (`tests/unit/test_imports.py`). Any model is also an attribute of this package
(`responses.Coupon`), imported from its module on first use.
"""

from ...lazy import exports

_MODULE = {
    "Equipped": "users",
    "UserCosmetics": "users",
    "UserInfo": "users",
    "Transaction": "users",
    "UserTransactions": "users",
    "LinksPage": "users",
    "Linked": "users",
    "Unlinked": "users",
    "IssuedKey": "users",
    "RevokedKey": "users",
    "Cosmetic": "cosmetics",
    "CosmeticEdited": "cosmetics",
    "CreatorShare": "cosmetics",
    "Bought": "cosmetics",
    "Granted": "cosmetics",
    "RevokedCosmetic": "cosmetics",
    "EquippedResult": "cosmetics",
    "Unequipped": "cosmetics",
    "Deleted": "common",
    "Category": "categories",
    "CategoryDeleted": "categories",
    "Credits": "credits",
    "Coupon": "coupons",
    "CouponsPage": "coupons",
    "CouponCreated": "coupons",
    "CouponEdited": "coupons",
    "Rewards": "coupons",
    "Redeemed": "coupons",
    "CreatorCodeUse": "creator_codes",
    "CreatorCodeBrief": "creator_codes",
    "CreatorCode": "creator_codes",
    "CreatorCodesPage": "creator_codes",
    "CreatorCodeCreated": "creator_codes",
    "CreatorCodeEdited": "creator_codes",
    "Supporting": "creator_codes",
    "Processed": "creator_codes",
}


__getattr__, __dir__ = exports(__name__, _MODULE, globals)
