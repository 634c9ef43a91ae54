"""The HTTP APIs' models: what a request may send and what a response holds, validated by Powertools and
documented in the OpenAPI document.

- `envelope`: the /api/xp envelope and error envelope, and the `responses()` / `shop_responses()` helpers
  that document a route's answers (both APIs);
- `fields`: field types several XP models share (Discord snowflakes, multipliers);
- `xp.requests`: /api/xp request bodies, the config patch (`ConfigPatch`, `validate_patch`) and which error
  code a bad field earns; `xp.messages`: the relay's chat-message events (ingestion body, queue records);
  `xp.responses`: /api/xp response shapes, one module per function (`members`, `leaderboard`, `config`,
  `stats`, `recalc`, `ingest`);
- `shop.requests`: /api/v1 request parameters and their field rules; `shop.responses`: /api/v1 response shapes,
  one module per function (and `common`).

Imports only pydantic, Powertools' logger and the pure rules (`errors`, `ids`, `names`, `levels`, `shop`,
`display`, `clock`, `guild_config` for its limits): never `store`, `service`, `http`, `discord` or `web`.
Every model is built on first use (`defer_build=True`), so importing one costs little on a cold start.
"""
