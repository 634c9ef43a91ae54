"""Who owns which cosmetic: an OWN# item per (member, cosmetic), indexed by cosmetic on GSI1 (its owners),
and the cosmetic's `ownerCount`, kept by every change in the same transaction (a cosmetic's delete sweeps
its owners until the count, read consistently, is 0)."""

from __future__ import annotations

from typing import Any

from .. import retry
from ..clock import now_ms
from ..errors import Unavailable
from ..shop import slot_attribute
from . import keys, pages, profiles, tx
from .guards import Guard, GuardFailed


def to_item(discord_id: str, cosmetic_id: str, source: str) -> dict[str, Any]:
    """The ownership item (`source`: purchase, grant, coupon)."""
    return {
        **keys.owned(discord_id, cosmetic_id),
        **keys.owners_index(cosmetic_id, discord_id),
        "cosmeticId": cosmetic_id,
        "source": source,
        "at": now_ms(),
    }


def grant_items(discord_id: str, cosmetic_id: str, source: str, version: int | None = None) -> list[tx.Guarded]:
    """Transaction items that give a cosmetic: the ownership, only if absent (UNOWNED), and one more owner
    on the cosmetic, which must still exist and not be being deleted (COSMETIC; with `version`: at the
    version that was read, so a price or type edit since is noticed)."""
    condition = "attribute_exists(PK) AND attribute_not_exists(deleting)"
    values: dict[str, Any] = {":one": 1}
    if version is not None:
        condition += " AND version = :v"
        values[":v"] = version
    return [
        (Guard.UNOWNED, tx.put(to_item(discord_id, cosmetic_id, source), "attribute_not_exists(PK)")),
        (
            Guard.COSMETIC,
            tx.update(keys.entity(keys.COSMETIC, cosmetic_id), "ADD ownerCount :one", condition, values=values),
        ),
    ]


def owners(cosmetic_id: str) -> list[str]:
    return [str(i["GSI1SK"]) for i in pages.gsi1_all(keys.owners_gsi1pk(cosmetic_id))]


def remove(discord_id: str, cosmetic_id: str, cosmetic_type: str, ledger: dict[str, Any] | None = None) -> bool:
    """Delete an ownership, one owner less, and clear the member's `cosmetic_type` slot if it holds the
    cosmetic, atomically (with `ledger`, that entry too). False if not owned (or the cosmetic is gone)."""
    slot = slot_attribute(cosmetic_type)
    for _ in retry.attempts():
        profile = profiles.get(discord_id)
        equipped = profile is not None and profile.equipped.get(cosmetic_type) == cosmetic_id
        items: list[tx.Guarded] = [
            (Guard.OWNED, tx.delete(keys.owned(discord_id, cosmetic_id), "attribute_exists(PK)")),
            (
                Guard.COSMETIC,
                tx.update(
                    keys.entity(keys.COSMETIC, cosmetic_id),
                    "ADD ownerCount :minus",
                    "attribute_exists(PK)",
                    values={":minus": -1},
                ),
            ),
        ]
        if equipped:
            clear = tx.update(
                keys.profile(discord_id),
                "REMOVE #slot",
                "#slot = :id",
                names={"#slot": slot},
                values={":id": cosmetic_id},
            )
        else:
            clear = tx.check(
                keys.profile(discord_id),
                "attribute_not_exists(#slot) OR #slot <> :id",
                names={"#slot": slot},
                values={":id": cosmetic_id},
            )
        items.append((Guard.SLOT, clear))
        if ledger:
            items.append((None, tx.put(ledger)))
        try:
            tx.write_guarded(items)
            return True
        except GuardFailed as refused:
            if Guard.OWNED in refused or Guard.COSMETIC in refused:
                return False
            continue  # the slot changed between our read and the write: look again
    raise Unavailable("The profile is changing concurrently; retry")
