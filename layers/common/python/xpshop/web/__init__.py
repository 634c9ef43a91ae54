"""The community surfaces: the public web leaderboard (HTML) and rank card images (PNG)."""
