"""Why the store refused a write: the names of its guards (the conditions a write carries).

A store function never words a refusal. When a guarded write does not happen it raises `GuardFailed`
naming the guards that did not hold (a transaction can fail several at once), and the service decides
what that means for the caller (xpshop.service.shop words every refusal of the shop).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum

from botocore.exceptions import ClientError

from .table import is_condition_failure


class Guard(StrEnum):
    # shop accounts
    PROFILE = "profile"  # the shop profile exists
    BALANCE = "balance"  # the profile exists, covers the cost, and supports the creator code that was read
    CREDIT_CAP = "credit_cap"  # the credits added keep the balance within shop.MAX_CREDITS
    SLOT = "slot"  # the profile's slot holds what was read
    LINK_FREE = "link_free"  # the Minecraft account is not linked to another Discord account
    UUID_FREE = "uuid_free"  # the profile is not linked to another Minecraft account
    LINKED = "linked"  # the link read is still there (both ways)
    KEY = "key"  # the account's API key pointer is as read
    LEVEL_MARK = "level_mark"  # the level-credits mark is as read
    # ownership
    UNOWNED = "unowned"  # the member does not own the cosmetic yet (the write creates the ownership)
    OWNED = "owned"  # the member owns the cosmetic
    # named entities (categories, cosmetics, coupons, creator codes)
    NEW_ID = "new_id"  # the freshly drawn id is free
    ENTITY = "entity"  # the entity exists (for a cosmetic: not being deleted, at the version read)
    NAME = "name"  # the entity's current unique name is still its own
    NEW_NAME = "new_name"  # the new unique name is free
    COSMETIC = "cosmetic"  # the cosmetic exists (to give or equip it: not being deleted; where read: same version/type)
    CATEGORY = "category"  # the category a cosmetic is counted into exists
    OLD_CATEGORY = "old_category"  # the category a moved cosmetic leaves exists
    EMPTY = "empty"  # the category counts no cosmetics
    CREATOR = "creator"  # the creator code exists with the owner that was read
    GRANT = "grant"  # the cosmetic a coupon grants exists and is not being deleted
    # coupons
    COUPON_OPEN = "coupon_open"  # active, unexpired, uses left, and its day_limit allows this redemption
    UNREDEEMED = "unredeemed"  # the member has not redeemed the coupon yet
    # API keys
    KEY_QUOTA = "key_quota"  # the key's maker holds fewer active keys than their limit


class GuardFailed(Exception):
    """A guarded write that did not happen, and which of its guards did not hold (none named: DynamoDB
    refused it for another reason)."""

    def __init__(self, guards: Iterable[Guard]) -> None:
        self.guards = frozenset(guards)
        super().__init__("refused by " + (", ".join(sorted(self.guards)) or "no named guard"))

    def __contains__(self, guard: object) -> bool:
        return guard in self.guards


@contextmanager
def guarding(guard: Guard) -> Iterator[None]:
    """Around one conditional write (PutItem, UpdateItem, DeleteItem): its failed condition is `guard`."""
    try:
        yield
    except ClientError as exc:
        if is_condition_failure(exc):
            raise GuardFailed([guard]) from exc
        raise
