"""Request bodies of /api/xp (validated by Powertools, documented in OpenAPI): XP, privacy, rewards,
multipliers, guild registration and the configuration patch (`ConfigPatch`, checked by `validate_patch`).
Which error code a bad body field earns is `field_codes`' (free of models). The configuration's rules
(defaults, merge, limits) are `xpshop.guild_config`'s; the relay's message batches are `api.xp.messages`'.

One module per function: `members` (XpUsersFunction) and `config` (XpConfigFunction, and `validate_patch`
for any config write): a function's handler imports its own module, so its cold start does not define the
other's models (`tests/unit/test_imports.py`). Any name is also an attribute of this package
(`requests.validate_patch`), imported from its module on first use.
"""

from ...lazy import exports

_MODULE = {
    "Reason": "members",
    "AddXpBody": "members",
    "SetXpBody": "members",
    "RemoveXpBody": "members",
    "PrivacyBody": "members",
    "AddRewardBody": "config",
    "RemoveRewardBody": "config",
    "PutMultipliersBody": "config",
    "DeleteMultipliersBody": "config",
    "RegisterGuildBody": "config",
    "RoleReward": "config",
    "LeaderboardSettings": "config",
    "MultiplierSettings": "config",
    "ThemeSettings": "config",
    "LabelSettings": "config",
    "CurveSettings": "config",
    "AnnouncementSettings": "config",
    "ConfigPatch": "config",
    "validate_patch": "config",
}


__getattr__, __dir__ = exports(__name__, _MODULE, globals)
