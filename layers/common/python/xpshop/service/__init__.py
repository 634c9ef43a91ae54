"""Use cases: each combines the pure rules with the store. Handlers call these and nothing below."""
