"""Sections of docs/PERFORMANCE.md that one bench writes and `make bench` carries over when it regenerates
the rest (rank cards, import and export, API keys): each is a `## heading` up to the next `## `."""

from __future__ import annotations


def insert(document: str, heading: str, lines: list[str]) -> str:
    """`document` with the section under `heading` replaced by `lines` (added before "## Notes" when absent)."""
    block = "\n".join(lines).strip("\n") + "\n"
    start = document.find(heading + "\n")
    if start >= 0:
        following = document.find("\n## ", start + len(heading))
        rest = document[following + 1 :] if following >= 0 else ""
        return document[:start] + block + ("\n" + rest if rest else "")
    notes = document.find("\n## Notes")
    if notes < 0:
        return document.rstrip("\n") + "\n\n" + block
    return document[: notes + 1] + block + "\n" + document[notes + 1 :]


def keep(previous: str, document: str, heading: str) -> str:
    """`document` (a fresh `make bench` page) with the section under `heading` of `previous` carried over."""
    start = previous.find(heading + "\n")
    if start < 0:
        return document
    following = previous.find("\n## ", start + len(heading))
    section = previous[start : following if following >= 0 else len(previous)]
    return insert(document, heading, section.strip("\n").split("\n"))
