"""/api/xp models."""
