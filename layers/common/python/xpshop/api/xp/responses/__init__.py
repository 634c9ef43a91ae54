"""Response shapes of /api/xp (the `data` of the envelope, `api.envelope`), for the OpenAPI document and
for contract tests.

The use cases return plain dicts; these models state what those dicts hold. A contract test validates
real responses against them (extra fields forbidden), so the document cannot drift from the API.

One module per function (`members`, `leaderboard`, `config`, `stats`, `recalc`, `ingest`): a function's
handler imports its own module, so its cold start does not define the other functions' models
(`tests/unit/test_imports.py`). Any model is also an attribute of this package (`responses.GuildStats`),
imported from its module on first use.
"""

from ...lazy import exports

_MODULE = {
    "MemberStats": "members",
    "ListedMember": "members",
    "Progress": "members",
    "MemberDetail": "members",
    "Pagination": "members",
    "MembersPage": "members",
    "XpSet": "members",
    "XpAdded": "members",
    "XpRemoved": "members",
    "Recalculated": "members",
    "Privacy": "members",
    "ForgottenCounts": "members",
    "Forgotten": "members",
    "LeaderboardEntry": "leaderboard",
    "LeaderboardPage": "leaderboard",
    "PublicLeaderboardEntry": "leaderboard",
    "PublicLeaderboardPage": "leaderboard",
    "Rank": "leaderboard",
    "Reward": "config",
    "MultiplierMaps": "config",
    "GuildConfigView": "config",
    "RewardsView": "config",
    "RewardAdded": "config",
    "RewardRemoved": "config",
    "EffectiveMultipliers": "config",
    "MultipliersView": "config",
    "GuildView": "config",
    "GuildRegistered": "config",
    "GuildsPage": "config",
    "TopUser": "stats",
    "UserStats": "stats",
    "XpTotals": "stats",
    "MessageTotals": "stats",
    "LevelStats": "stats",
    "ConfigSummary": "stats",
    "GuildStats": "stats",
    "Health": "stats",
    "GuildRecalc": "recalc",
    "RecalcReport": "recalc",
    "Ingested": "ingest",
}


__getattr__, __dir__ = exports(__name__, _MODULE, globals)
