"""Helpers shared by the test suites (an in-process API client, ids, storage probes)."""
