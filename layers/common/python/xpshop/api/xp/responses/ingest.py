"""Response shapes of /api/xp/ingest/messages (XpIngestFunction): see the package's docstring."""

from pydantic import BaseModel, ConfigDict


# POST /api/xp/ingest/messages (the relay's API). Pydantic's default config, as it has always been documented
# (extra fields not forbidden): `_VIEW` would change the OpenAPI document. Built on first use like the others.
class Ingested(BaseModel):
    model_config = ConfigDict(defer_build=True)
    accepted: int
    skipped: int
