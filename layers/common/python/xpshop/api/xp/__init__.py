"""/api/xp models: `requests` (bodies and the config patch), `messages` (relay events), `responses`."""
