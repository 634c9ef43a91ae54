"""/api/v1 (shop) models: `requests` (parameters and their field rules), `responses` (the seed's shapes)."""
