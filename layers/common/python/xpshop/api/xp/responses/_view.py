"""The config every /api/xp response model shares."""

from pydantic import ConfigDict

VIEW = ConfigDict(extra="forbid", defer_build=True)
