"""A client generated from docs/openapi.json with openapi-python-client (pinned in requirements-client.txt, in
its own .venv-client: `make client-venv`, which `make test` runs) drives the XP seed's sequence and the shop's
main path (category, a cosmetic of each type, credits, buy, equip, coupon, redeem) against the session's
server, through its typed models only (tests/e2e/generated_client_sequence.py)."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

from local import REPO_ROOT
from tests.e2e.conftest import E2E_KEY
from tests.support.storage import new_guild_id, new_user_id

CLIENT_VENV = REPO_ROOT / ".venv-client"
SEQUENCE = Path(__file__).with_name("generated_client_sequence.py")
ROLE = "456789012345678977"


def test_a_generated_client_runs_the_seed_and_shop_sequences(server: str, tmp_path: Path) -> None:
    generator = CLIENT_VENV / "bin" / "openapi-python-client"
    assert generator.is_file(), "no .venv-client: run `make client-venv` (make test does)"
    generated = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(REPO_ROOT / "docs" / "openapi.json"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "xpshop_client"),
        ],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    # every operation became a function (the importer's CSV form is the one part the generator skips)
    functions = sorted(p.stem for p in (tmp_path / "xpshop_client" / "api").glob("*/*.py") if p.stem != "__init__")
    document = json.loads((REPO_ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    operation_ids = sorted(op["operationId"] for ops in document["paths"].values() for op in ops.values())
    assert functions == operation_ids

    suffix = secrets.token_hex(3).upper()
    ids = [new_guild_id(), new_user_id(), new_user_id(), ROLE, new_user_id(), new_user_id()]
    run = subprocess.run(
        [str(CLIENT_VENV / "bin" / "python"), str(SEQUENCE), str(tmp_path), server, E2E_KEY, *ids, suffix],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["xp"] == {"xp": 100, "board": 2, "health": "healthy"}
    assert summary["shop"]["types"] == sorted(
        ["cloak", "wings", "pet", "hat", "bodywear", "bandana", "mask", "shoes", "glasses"]
    )
    assert summary["shop"]["credits"] == 85  # 100 - 40 (the hat) + 25 (the coupon)
    assert summary["shop"]["redeemed"] == {"redeemed": True, "rewards": {"cosmetic": None, "credits": 25}}
