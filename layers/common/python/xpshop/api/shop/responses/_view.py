"""The config every /api/v1 response model shares."""

from pydantic import ConfigDict

VIEW = ConfigDict(extra="forbid", defer_build=True)
