"""Request parameters of the shop API (/api/v1). Names follow the seed (`cosmeticid`, `new_amount`, ...).

POST/PATCH/PUT/DELETE parameters come from the JSON body, or from the query string when there is no body
(`xpshop.http` folds them in before validation). Numbers may be given as strings ("125", "-5").
Query-string parameters reuse the same rules: `account_param` (an account id) and `CODE_PATTERN`.

One module per function (`users`, `cosmetics`, `categories`, `credits`, `coupons`, `creator_codes`), with
the field types they share in `common` (ids, names, codes, counts) and `amounts` (credits): a function's
handler imports its own module, so its cold start does not define the other functions' models
(`tests/unit/test_imports.py`). Any name is also an attribute of this package (`requests.CouponEdit`),
imported from its module on first use.
"""

from ...lazy import exports

_MODULE = {
    "ACCOUNT_SCHEMA": "common",
    "AccountId": "common",
    "DiscordId": "common",
    "SHORT_ID_PATTERN": "common",
    "ShortId": "common",
    "NAME_PATTERN": "common",
    "text_schema": "common",
    "DisplayName": "common",
    "NameRef": "common",
    "CODE_PATTERN": "common",
    "Code": "common",
    "integer_schema": "common",
    "NUMBER": "common",
    "Whole": "common",
    "Count": "common",
    "UnixSeconds": "common",
    "EXAMPLE_UID": "common",
    "EXAMPLE_CATEGORY": "common",
    "EXAMPLE_COSMETIC": "common",
    "NOT_ZERO_CODE": "common",
    "any_of_present": "common",
    "account_param": "common",
    "Cost": "amounts",
    "Credits": "amounts",
    "SignedCredits": "amounts",
    "Account": "users",
    "LinkBody": "users",
    "CosmeticType": "cosmetics",
    "ShowcaseUrl": "cosmetics",
    "ModelUrl": "cosmetics",
    "TextureUrl": "cosmetics",
    "Description": "cosmetics",
    "CosmeticCreate": "cosmetics",
    "CosmeticUpdate": "cosmetics",
    "CosmeticDelete": "cosmetics",
    "OwnershipBody": "cosmetics",
    "EquipBody": "cosmetics",
    "UnequipBody": "cosmetics",
    "CategoryCreate": "categories",
    "CategoryRename": "categories",
    "CategoryDelete": "categories",
    "CreditsModify": "credits",
    "CreditsSet": "credits",
    "Flag": "coupons",
    "CouponFields": "coupons",
    "CouponCreate": "coupons",
    "CouponEdit": "coupons",
    "CouponDelete": "coupons",
    "RedeemBody": "coupons",
    "CreatorCodeCreate": "creator_codes",
    "CreatorCodeUpdate": "creator_codes",
    "CreatorCodeDelete": "creator_codes",
    "CreatorCodeSet": "creator_codes",
}


__getattr__, __dir__ = exports(__name__, _MODULE, globals)
