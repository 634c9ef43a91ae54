"""Every key format of the single table, and nothing else builds keys.

| item            | PK            | SK                                  |
|-----------------|---------------|-------------------------------------|
| guild registry  | GUILD#<g>     | META        (GSI1: GUILDS / <g>)    |
| guild config    | GUILD#<g>     | CONFIG  (config overrides; `bands`: the board's band layout) |
| global config   | GLOBAL        | CONFIG                              |
| member XP       | GUILD#<g>     | MEMBER#<u>  (LeaderboardBands: board/score) |
| guild counters  | GUILD#<g>#STATS#<shard> | STATS  (16 shards)        |
| XP audit record | GUILD#<g>     | AUDIT#<u>#<ms>#<id>  (TTL)          |
| recalc marker   | GUILD#<g> / GLOBAL | RECALC  (GSI1: RECALC / <g>)   |
| recalc progress | GUILD#<g>     | RECALCJOB   (cursor, partial totals) |
| idempotency     | IDEMPOTENCY#<function> | <hash>  (Powertools)       |
| shop profile    | USER#<d>      | PROFILE                             |
| ownership       | USER#<d>      | OWN#<cosmeticId>  (GSI1: OWNERS#<c> / <d>) |
| ledger entry    | USER#<d>      | TX#<ms>#<id>                        |
| account link    | MC#<uuid>     | LINK        (GSI1: LINKS / <d>)     |
| user API key    | APIKEY#<sha256> | META      (USER#<d> / APIKEY points back) |
| cosmetic        | COSMETIC#<id> | META        (GSI1: COSMETICS / <id>) |
| category        | CATEGORY#<id> | META        (GSI1: CATEGORIES / <id>) |
| coupon          | COUPON#<id>   | META        (GSI1: COUPONS / <id>)  |
| redemption      | COUPON#<id>   | REDEEMED#<d>                        |
| creator code    | CREATOR#<id>  | META        (GSI1: CREATORS / <id>) |
| creator code use| CREATOR#<id>  | USE#<ms>#<id>                       |
| unique name     | NAME#<kind>#<folded name> | META -> the id it names (xpshop.names.fold) |
| rank counter    | GUILD#<g>#RANK#v<layout>#<level>[#<parent>...] | <key, zero-padded>  (n) |
| ranked position | GUILD#<g>#RANKED#<u> | RANKED#v<layout>  (xp counted, seq of the last stream record applied) |
| rank layout     | GLOBAL        | RANKLAYOUT  (layout the counters are built in) |
| board layout    | GLOBAL        | BOARDLAYOUT (layout of the members' leaderboard bands) |
| once marker     | GUILD#<g>     | ONCE#<kind>#<ref>  (e.g. Give XP per message, member event per id; TTL) |
| level effects   | GUILD#<g>     | EFFECT#<u>#<level>  (announced; TTL)  |
| level credits   | USER#<d>      | LEVELPAID#<g>  (paidUpTo: the highest level paid, kept) |
| import record   | GUILD#<g>     | IMPORT#<run>  (a sync import or a background job: mode, counts, errors; TTL) |
| import chunk    | GUILD#<g>     | IMPORT#<run>#CHUNK#<n>  (a job's rows, waiting for the worker; TTL) |
| chunk applied   | GUILD#<g>     | IMPORT#<run>#DONE#<n>  (written with the job's counts, once; TTL) |
| import lock     | GUILD#<g>     | IMPORTLOCK  (one import at a time per guild; expires) |
| API key (v2)    | KEY#<id>      | META        (GSI1: KEYS / <id>; the secret's SHA-256, never the secret) |
| rate window     | RATE#<subject>#<window start, s> | RATE  (n requests counted; TTL) |
"""

from __future__ import annotations

import bisect
from typing import Any

from .. import ids, names

META = "META"
CONFIG = "CONFIG"
GLOBAL_PK = "GLOBAL"
GUILDS_GSI1PK = "GUILDS"
MEMBER_PREFIX = "MEMBER#"
STATS_PREFIX = "STATS#"
AUDIT_PREFIX = "AUDIT#"
LEADERBOARD_INDEX = "LeaderboardBands"
GSI1 = "GSI1"

# Counters are spread over shards so that no single item takes every write of a busy guild.
STATS_SHARDS = 16

# DynamoDB's sort-key limit (a partition key may have 2048 bytes): no key built from user text may exceed it.
MAX_KEY_BYTES = 1024

# Leaderboard order in one number: XP descending, then user id ascending on ties.
# score = xp * 10^20 + (10^20 - 1 - userId); fits DynamoDB's 38 significant digits for xp < 10^15.
SCORE_XP_UNIT = 10**20


def guild_pk(guild_id: str) -> str:
    return f"GUILD#{guild_id}"


def guild_id_from_pk(pk: str) -> str:
    """The guild id of a `GUILD#<g>` partition key (stream images of items written before `guildId` was)."""
    return pk.removeprefix("GUILD#")


def guild_meta(guild_id: str) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": META}


def guild_config(guild_id: str) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": CONFIG}


def global_config() -> dict[str, str]:
    return {"PK": GLOBAL_PK, "SK": CONFIG}


def member(guild_id: str, user_id: str) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": f"{MEMBER_PREFIX}{user_id}"}


def stats_shard(guild_id: str, user_id: str) -> dict[str, str]:
    """The counter shard a member's changes go to. Each shard has its own partition key, so a busy guild's
    counter writes spread over 16 partitions instead of all landing on the guild's."""
    return stats_shard_key(guild_id, int(user_id) % STATS_SHARDS)


def stats_shard_key(guild_id: str, shard: int) -> dict[str, str]:
    return {"PK": f"{guild_pk(guild_id)}#{STATS_PREFIX}{shard:02d}", "SK": "STATS"}


def all_stats_shards(guild_id: str) -> list[dict[str, str]]:
    return [stats_shard_key(guild_id, shard) for shard in range(STATS_SHARDS)]


def audit(guild_id: str, user_id: str, at_ms: int, record_id: str) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": f"{AUDIT_PREFIX}{user_id}#{at_ms:013d}#{record_id}"}


def audit_prefix(user_id: str) -> str:
    return f"{AUDIT_PREFIX}{user_id}#"


def health_probe() -> dict[str, str]:
    """A key that never holds an item: reading it proves the table answers."""
    return {"PK": "HEALTH", "SK": "HEALTH"}


def guild_index(guild_id: str) -> dict[str, str]:
    return {"GSI1PK": GUILDS_GSI1PK, "GSI1SK": guild_id}


def idempotency_pk(function_name: str) -> str:
    return f"IDEMPOTENCY#{function_name}"


def score(xp: int, user_id: str) -> int:
    return xp * SCORE_XP_UNIT + (SCORE_XP_UNIT - 1 - int(user_id))


# Above every member's score (XP stays below 10^15): an index Query from here starts at the top member.
SCORE_CEILING = 10**15 * SCORE_XP_UNIT


# Leaderboard bands: the index partition of a member is its guild and the band of its stored level
# (`board`), so one busy guild's awards can spread over many index partitions instead of one. Each guild
# has a band layout (its CONFIG item's `bands`, read with its config: service.curves, levels.Curve.banded):
# - one band (SINGLE_BAND, every guild to begin with): every member in BAND#00, so a page or a rank reads
#   exactly what it read before the bands (one index Query);
# - the fine bands (FINE_BANDS), switched on by the recalculation for a guild past FINE_BANDS_FROM members
#   (one-way): a band is a range of levels starting at each of BAND_LEVELS, one level each where the crowds
#   and the award rates are (new and mid members), wider up high where members are few.
# The level is written exactly whenever it changes (a crossing, set, relevel, import, reset), so the band
# costs no request of its own; for one curve the level only grows with XP, so (band desc, score desc) is
# the XP order. bench/capacity.py checks that 5,000 awards/s in one guild on the fine bands keep every band
# under a partition's 1,000 WCU/s, and what a guild just below FINE_BANDS_FROM puts on its single band.
# Changing BAND_LEVELS moves members between partitions: bump BOARD_LAYOUT with it (the recalculation
# rewrites every `board`). 2: per-guild layouts (1: the fine bands for every guild).
BAND_LEVELS = (0, 6, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35, 37, 39, 42, 45, 48, 52, 60, 75, 100, 200)
BANDS = len(BAND_LEVELS)
BOARD_LAYOUT = 2
SINGLE_BAND, FINE_BANDS = 0, 1  # a guild's band layout (its CONFIG item's `bands`; absent: SINGLE_BAND)
# Members counted in a guild's stats from which the recalculation switches it to FINE_BANDS. An index
# partition takes 1,000 WCU/s, ~500 awards/s (2 WCU each), ~30,000 members chatting at the cap (one award
# a minute): at 15,000 a guild puts at most ~500 WCU/s on its single band, half a partition, which leaves
# room for its growth until the next scheduled run switches it and for bursts.
FINE_BANDS_FROM = 15_000


def bands(fine: bool) -> int:
    """How many bands a layout has (FINE_BANDS: BANDS; the single band: 1)."""
    return BANDS if fine else 1


def band(level: int, fine: bool) -> int:
    """The band of a stored level: on the fine layout the last band starting at or below it, else 0."""
    return bisect.bisect_right(BAND_LEVELS, max(0, int(level))) - 1 if fine else 0


def board(guild_id: str, band_: int) -> str:
    """The Leaderboard index partition key of one band of a guild (the member item's `board`)."""
    return f"{guild_pk(guild_id)}#BAND#{band_:02d}"


def board_of(guild_id: str, level: int, fine: bool) -> str:
    return board(guild_id, band(level, fine))


def band_of_board(value: str) -> int | None:
    """The band a `board` value names (None for anything else)."""
    tail = value.rpartition("#BAND#")[2]
    return int(tail) if value.count("#BAND#") == 1 and tail.isdigit() and int(tail) < BANDS else None


def level_counter(level: int) -> str:
    """Attribute name of a level-histogram counter on a stats shard."""
    return f"lv_{level}"


def level_from_counter(attribute: str) -> int | None:
    return int(attribute[3:]) if attribute.startswith("lv_") and attribute[3:].isdigit() else None


def user_id_from_member_sk(sk: str) -> str:
    return sk[len(MEMBER_PREFIX) :]


def strip(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its key and index attributes (what the domain sees)."""
    return {k: v for k, v in item.items() if k not in {"PK", "SK", "GSI1PK", "GSI1SK", "score", "board"}}


# ---------------------------------------------------------------- shop

PROFILE = "PROFILE"
OWN_PREFIX = "OWN#"
TX_PREFIX = "TX#"
USE_PREFIX = "USE#"
REDEEMED_PREFIX = "REDEEMED#"
LINKS_GSI1PK = "LINKS"


def user_pk(discord_id: str) -> str:
    return f"USER#{discord_id}"


def profile(discord_id: str) -> dict[str, str]:
    return {"PK": user_pk(discord_id), "SK": PROFILE}


def owned(discord_id: str, cosmetic_id: str) -> dict[str, str]:
    return {"PK": user_pk(discord_id), "SK": f"{OWN_PREFIX}{cosmetic_id}"}


def owners_index(cosmetic_id: str, discord_id: str) -> dict[str, str]:
    return {"GSI1PK": f"OWNERS#{cosmetic_id}", "GSI1SK": discord_id}


def owners_gsi1pk(cosmetic_id: str) -> str:
    return f"OWNERS#{cosmetic_id}"


def ledger(discord_id: str, at_ms: int, entry_id: str) -> dict[str, str]:
    return {"PK": user_pk(discord_id), "SK": f"{TX_PREFIX}{at_ms:013d}#{entry_id}"}


def link(uuid: str) -> dict[str, str]:
    return {"PK": f"MC#{uuid}", "SK": "LINK"}


def link_index(discord_id: str) -> dict[str, str]:
    return {"GSI1PK": LINKS_GSI1PK, "GSI1SK": discord_id}


def api_key(digest: str) -> dict[str, str]:
    return {"PK": f"APIKEY#{digest}", "SK": META}


def user_api_key(discord_id: str) -> dict[str, str]:
    return {"PK": user_pk(discord_id), "SK": "APIKEY"}


# Catalog entities: (kind, listing partition on GSI1)
COSMETIC = "COSMETIC"
CATEGORY = "CATEGORY"
COUPON = "COUPON"
CREATOR = "CREATOR"
_LISTINGS = {COSMETIC: "COSMETICS", CATEGORY: "CATEGORIES", COUPON: "COUPONS", CREATOR: "CREATORS"}


def entity(kind: str, entity_id: str) -> dict[str, str]:
    return {"PK": f"{kind}#{entity_id}", "SK": META}


def entity_index(kind: str, entity_id: str) -> dict[str, str]:
    return {"GSI1PK": _LISTINGS[kind], "GSI1SK": entity_id}


def listing(kind: str) -> str:
    return _LISTINGS[kind]


_NAME_FIELDS = {COSMETIC: "name", CATEGORY: "name", COUPON: "code", CREATOR: "code"}


def name(kind: str, display_name: str, field: str | None = None) -> dict[str, str]:
    """The item that makes a name unique within its kind, keyed by its folded form (xpshop.names), so
    "Café" typed two ways or "HAT"/"hat" are the same name. A name that cannot fit a key is a 400 naming
    `field` (by default the kind's: the request models check first, this guards every other way in)."""
    folded = names.folded_key_part(display_name, field or _NAME_FIELDS[kind])
    return {"PK": f"NAME#{kind}#{folded}", "SK": META}


def fits(key: dict[str, Any]) -> bool:
    """Every value a UTF-8 string of 1..MAX_KEY_BYTES bytes, as DynamoDB requires of key values (for keys
    that come back from callers, e.g. pagination cursors)."""
    sizes = [names.utf8_size(v) if isinstance(v, str) else None for v in key.values()]
    return all(size is not None and 0 < size <= MAX_KEY_BYTES for size in sizes)


def redemption(coupon_id: str, discord_id: str) -> dict[str, str]:
    return {"PK": f"{COUPON}#{coupon_id}", "SK": f"{REDEEMED_PREFIX}{discord_id}"}


def creator_use(creator_id: str, at_ms: int, use_id: str) -> dict[str, str]:
    return {"PK": f"{CREATOR}#{creator_id}", "SK": f"{USE_PREFIX}{at_ms:013d}#{use_id}"}


def creator_pk(creator_id: str) -> str:
    return f"{CREATOR}#{creator_id}"


def gsi1_cursor_check(gsi1pk: str, pk_prefix: str, sk: str = META) -> Any:
    """A pagination-cursor check for a GSI1 listing whose items are `<pk_prefix><GSI1SK>` / `sk`."""

    def belongs(key: dict[str, str]) -> bool:
        return (
            key["GSI1PK"] == gsi1pk
            and key["SK"] == sk
            and bool(key["GSI1SK"].strip())
            and key["GSI1SK"].isascii()  # isalnum alone also accepts letters of every script
            and key["GSI1SK"].isalnum()
            and key["PK"] == f"{pk_prefix}{key['GSI1SK']}"
        )

    return belongs


def ledger_cursor_check(discord_id: str) -> Any:
    def belongs(key: dict[str, str]) -> bool:
        sk = key["SK"]
        return key["PK"] == user_pk(discord_id) and sk.startswith(TX_PREFIX) and sk.isascii() and len(sk) > 20

    return belongs


def link_cursor_check(key: dict[str, str]) -> bool:
    return (
        key["GSI1PK"] == LINKS_GSI1PK
        and key["SK"] == "LINK"
        and ids.is_snowflake(key["GSI1SK"])  # isdigit() alone also accepts digits of every script
        and len(key["PK"]) == 35
        and key["PK"].startswith("MC#")
    )


# ---------------------------------------------------------------- recalculation

RECALC_GSI1PK = "RECALC"


def recalc_marker(guild_id: str | None) -> dict[str, str]:
    """Marks a guild (or, with None, every guild) as needing its levels recalculated."""
    return {"PK": guild_pk(guild_id) if guild_id else GLOBAL_PK, "SK": "RECALC"}


def recalc_marker_index(guild_id: str) -> dict[str, str]:
    return {"GSI1PK": RECALC_GSI1PK, "GSI1SK": guild_id}


def recalc_checkpoint(guild_id: str) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": "RECALCJOB"}


def recalc_checkpoint_global() -> dict[str, str]:
    return {"PK": GLOBAL_PK, "SK": "RECALCJOB"}


def board_layout_record() -> dict[str, str]:
    """The leaderboard band layout (BOARD_LAYOUT) every member's `board` was last asked to be written in."""
    return {"PK": GLOBAL_PK, "SK": "BOARDLAYOUT"}


def rank_layout_record() -> dict[str, str]:
    """The rank counter layout the table's counters were last asked to be built in (see RANK_LAYOUT)."""
    return {"PK": GLOBAL_PK, "SK": "RANKLAYOUT"}


def member_prefix() -> str:
    return MEMBER_PREFIX


# Discord side effects: markers that make a command or an effect happen once.
def once(guild_id: str, kind: str, ref: str) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": f"ONCE#{kind}#{ref}"}


def level_effect(guild_id: str, user_id: str, level: int) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": f"{level_effect_prefix(user_id)}{level}"}


def level_effect_prefix(user_id: str) -> str:
    return f"EFFECT#{user_id}#"


# A member event (a leave or a ban, from the relay) is applied once per event id (TTL, like other markers).
MEMBER_EVENT = "member"


def level_paid(discord_id: str, guild_id: str) -> dict[str, str]:
    return {"PK": user_pk(discord_id), "SK": f"LEVELPAID#{guild_id}"}


# Rank counters (xpshop.rank_tree): one partition per parent, so a level's counters are one Query.
# The layout version is in every key: a layout change starts from empty counters and ranked items, which
# the recalculation's repair backfills, never mixing two layouts. The first recalculation run after the
# upgrade (scheduled or on demand) sees the new version and marks every guild (service.recalc).
# 2: tie ranges (T) for every exact XP below 1000 (1 had them at 0 XP only).
# 3: C counts per hundred of XP from 1000 XP on (rank_tree.counted; 2 counted every exact XP).
RANK_LAYOUT = 3


def rank_counters_pk(guild_id: str, level: str, parent: tuple[int, ...]) -> str:
    return f"{guild_pk(guild_id)}#RANK#v{RANK_LAYOUT}#{level}" + "".join(f"#{p}" for p in parent)


def rank_counter(guild_id: str, level: str, parent: tuple[int, ...], key: int) -> dict[str, str]:
    return {"PK": rank_counters_pk(guild_id, level, parent), "SK": f"{key:012d}"}


def ranked(guild_id: str, user_id: str) -> dict[str, str]:
    """The position a member is counted at in the rank counters (its own partition: no hot key)."""
    return {"PK": f"{guild_pk(guild_id)}#RANKED#{user_id}", "SK": f"RANKED#v{RANK_LAYOUT}"}


def rank_plan(guild_id: str) -> dict[str, str]:
    """The guild's rank plan: the lock every writer of its rank counters and ranked items takes or checks,
    its version (v), and the moves of the plan being applied (store.rank_counters). Never deleted: the
    counters remember the last plan version applied to them."""
    return {"PK": f"{guild_pk(guild_id)}#RANKPLAN", "SK": f"RANKPLAN#v{RANK_LAYOUT}"}


# Imports (issue 15): one record per import run (a request answered at once, or a background job), the
# rows of a job's chunks, and the guild's lock (one import at a time). Member items name the run that
# last wrote them in `importRun` (per-row idempotency: a chunk delivered again is not added twice).
IMPORT_PREFIX = "IMPORT#"


def import_run(guild_id: str, run_id: str) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": f"{IMPORT_PREFIX}{run_id}"}


def import_chunk(guild_id: str, run_id: str, chunk: int) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": f"{IMPORT_PREFIX}{run_id}#CHUNK#{chunk:05d}"}


def import_chunk_done(guild_id: str, run_id: str, chunk: int) -> dict[str, str]:
    """A small item saying the chunk is applied (the chunk's own item is ~90 KB: writing it again would cost
    ~90 WCU where this costs 1)."""
    return {"PK": guild_pk(guild_id), "SK": f"{IMPORT_PREFIX}{run_id}#DONE#{chunk:05d}"}


def import_lock(guild_id: str) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": "IMPORTLOCK"}


# API keys v2 (xpshop.service.access_keys) and rate-limit windows (xpshop.store.rate_limits)
ACCESS_KEYS_GSI1PK = "KEYS"


def access_key(key_id: str) -> dict[str, str]:
    return {"PK": f"KEY#{key_id}", "SK": META}


def access_key_index(key_id: str) -> dict[str, str]:
    return {"GSI1PK": ACCESS_KEYS_GSI1PK, "GSI1SK": key_id}


def access_key_quota(owner: str) -> dict[str, str]:
    """The count of active keys one maker holds (`<guild>:<user>` for /xp api-key); under KEY# like the keys
    (the functions that make and revoke keys are pinned to that prefix). A key id is 16 hex digits, so
    `KEY#BY#...` never names a key."""
    return {"PK": f"KEY#BY#{owner}", "SK": "QUOTA"}


def rate_window(subject: str, window_start_s: int) -> dict[str, str]:
    """One fixed window of one caller (`key:<id>`, `user:<d>`, `ip:<address>`, `admin`): its own partition,
    so counting never makes a hot partition of anything but one caller's minute."""
    return {"PK": f"RATE#{subject}#{window_start_s}", "SK": "RATE"}
