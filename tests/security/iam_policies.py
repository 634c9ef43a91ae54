"""The IAM grants each function should have (iam_policies.json), and checks of what the tests saw against them."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

from tests.support.iam_usage import INDEX_PREFIX

POLICIES_FILE = Path(__file__).with_name("iam_policies.json")


def expected() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(POLICIES_FILE.read_text(encoding="utf-8"))
    return data["functions"]


def gate_of(grant: dict[str, Any]) -> dict[str, Any] | None:
    """The function's API gate statement (Sid ApiGate): API keys v2 and rate-limit windows."""
    gate = grant.get("gate")
    if not gate:
        return None
    return {"actions": sorted(gate["actions"]), "leadingKeys": sorted(gate["leadingKeys"])}


def violations(observed: dict[str, dict[str, set[str]]]) -> list[str]:
    if not POLICIES_FILE.exists():
        return []
    grants = expected()
    problems = []
    for function, actions in sorted(observed.items()):
        grant = grants.get(function)
        if grant is None:
            problems.append(f"{function}: not listed")
            continue
        allowed = set(grant["actions"]) | set(grant.get("other", []))
        leading = grant.get("leadingKeys")
        gate = gate_of(grant)
        for action, seen in sorted(actions.items()):
            partitions = seen
            if gate is not None and action in gate["actions"]:
                # what the gate statement allows (keys, rate windows) needs nothing of the others
                partitions = {p for p in seen if not any(fnmatch.fnmatchcase(p, pat) for pat in gate["leadingKeys"])}
                if not partitions:
                    continue
            on_index = {p for p in partitions if p.startswith(INDEX_PREFIX)}
            if on_index and action not in grant.get("indexActions", []):
                problems.append(f"{function}: {action} on an index ({sorted(on_index)[:3]})")
            on_table = partitions - on_index
            if not on_table:
                continue
            if action not in allowed:
                problems.append(f"{function}: {action} (partitions {sorted(on_table)[:3]})")
                continue
            if leading and action.startswith("dynamodb:"):
                outside = sorted(p for p in on_table if not any(fnmatch.fnmatchcase(p, pat) for pat in leading))
                if outside:
                    problems.append(f"{function}: {action} on partitions outside {leading}: {outside[:3]}")
    return problems
