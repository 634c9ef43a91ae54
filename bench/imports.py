"""Cold import of every function against `import boto3` alone, measured in the same run (issue 18: each
function's import at most 1.3x boto3's). A section of docs/PERFORMANCE.md.

Each function is imported as Lambda loads it: a fresh `python -S -X importtime` process with only its CodeUri,
the layer built for this host (local.layer, read-only: no bytecode written, only what the layer ships) and the
runtime's boto3. Samples alternate between `import boto3`, `import app` and `import app` followed by what its
first requests import (what it left to them with `coldstart.later`, and boto3 with botocore's client
machinery, which the store loads on the first DynamoDB call), so a change in the machine's load falls on all
three alike; each figure is the median of its samples.

With `--instructions`, each import is also counted in instructions (valgrind's callgrind, one fresh process
each, hash seed fixed): the same count in every run whatever the machine's load, so the ratio that load
cannot stretch. A bench prerequisite, not a test one: valgrind (`apt-get install valgrind`); `perf stat -e
instructions` would be quicker, but this VM exposes no hardware counters to it.

    python -m bench.imports [--samples 5] [--instructions] [--no-write]

`make bench` writes this section with the rest of the page (`section`). Benchmarks measure, they assert nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from local import REPO_ROOT

HEADING = "## Cold import per function (`python -X importtime`, CodeUri + layer only, against `import boto3`)"
OLD_HEADING = "## Cold import per function"  # any earlier title of this section starts so
TARGET = 1.3  # issue 18: a function's import at most this many times boto3's, same machine, same run
# What the first storage call adds to a function's imports (store/table.py, store/conditions.py).
FIRST_CALL = "import boto3, boto3.dynamodb.conditions, boto3.dynamodb.types, botocore.config, botocore.retries.standard"
# What a function left to its first requests (`xpshop.coldstart.later`: the gate's checks, the routes' services
# and the stores behind them; every route's together), imported before the first storage call.
FIRST_REQUESTS = (
    "import sys; coldstart = sys.modules.get('xpshop.coldstart'); coldstart and coldstart.load_later(); " + FIRST_CALL
)


@dataclass
class Result:
    function: str
    app_ms: float
    boto3_ms: float
    first_requests_ms: float
    bare_ms: float  # the same import from a layer without bytecode (NaN when not measured)
    app_cpu_ms: float
    boto3_cpu_ms: float
    app_instructions: float = float("nan")  # the import's instructions (NaN when not counted)
    boto3_instructions: float = float("nan")

    @property
    def ratio(self) -> float:
        return self.app_ms / self.boto3_ms

    @property
    def cpu_ratio(self) -> float:
        return self.app_cpu_ms / self.boto3_cpu_ms

    @property
    def instructions_ratio(self) -> float:
        return self.app_instructions / self.boto3_instructions


def _env() -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "TABLE_NAME": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",  # the template's default (`Tracing` off)
        "PYTHONDONTWRITEBYTECODE": "1",  # /opt is read-only on Lambda: only shipped bytecode counts
    }


def import_ms(paths: list[Path], statement: str) -> tuple[float, float]:
    """One fresh process: the milliseconds `python -X importtime` gives the top-level imports of `statement`
    (the sum of their cumulative times), and the CPU milliseconds the process spent on them (what the
    machine's other load does not stretch); NaNs when it fails."""
    done = subprocess.run(
        [
            sys.executable,
            "-S",
            "-X",
            "importtime",
            "-c",
            f"import sys, time; sys.path[:0] = {[str(p) for p in paths]!r}; cpu = time.process_time(); {statement};"
            " print((time.process_time() - cpu) * 1000)",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=_env(),
    )
    if done.returncode != 0:
        return float("nan"), float("nan")
    total = 0
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            if name.startswith(" ") and not name.startswith("  ") and name.strip() not in ("sys", "time"):
                total += int(parts[1])
    return total / 1000, float(done.stdout.strip().splitlines()[-1])


_COLLECTED = re.compile(r"^==\d+== Collected : (\d+)$", re.MULTILINE)


def instructions(paths: list[Path], statement: str) -> int:
    """The instructions one fresh process executes, counted by valgrind's callgrind: the same for the same code
    whatever else the machine runs (the hash seed is fixed: a random one moves the count by ~0.2%)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind): a bench prerequisite")
    done = subprocess.run(
        [
            valgrind,
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-S",
            "-c",
            f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}; {statement}",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**_env(), "PYTHONHASHSEED": "0"},
    )
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind failed for {statement!r}: {done.stderr[-2000:]}")
    return int(found.group(1))


def import_instructions(paths: list[Path], statement: str) -> int:
    """The instructions of `statement` alone: its process's less those of one that only sets the path."""
    return instructions(paths, statement) - instructions(paths, "pass")


# The floor of an HTTP function while it validates with Powertools: its resolver, the OpenAPI validation
# middleware and pydantic, with nothing of xpshop (a reference row of the table).
FLOOR = (
    "floor: Powertools HTTP resolver + validation + pydantic",
    "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver;"
    " import aws_lambda_powertools.event_handler.middlewares.openapi_validation; from pydantic import BaseModel",
)


def _row(name: str, paths: list[Path], statement: str, samples: int, bare_paths: list[Path] | None) -> Result:
    """`statement` (an import) against `import boto3`, their samples alternating, in fresh processes."""
    app: list[tuple[float, float]] = []
    boto: list[tuple[float, float]] = []
    both: list[tuple[float, float]] = []
    for i in range(samples):
        steps = [(boto, "import boto3"), (app, statement), (both, f"{statement}; {FIRST_REQUESTS}")]
        for found, step in steps[i % 3 :] + steps[: i % 3]:
            found.append(import_ms(paths, step))
    bare_ms = statistics.median(import_ms(bare_paths, statement)[0] for _ in range(3)) if bare_paths else float("nan")
    return Result(
        name,
        statistics.median(w for w, _ in app),
        statistics.median(w for w, _ in boto),
        statistics.median(w for w, _ in both),
        bare_ms,
        statistics.median(c for _, c in app),
        statistics.median(c for _, c in boto),
    )


def measure(
    samples: int = 5, *, bare: bool = True, only: list[str] | None = None, count_instructions: bool = False
) -> list[Result]:
    """One row per function (by logical id; `only` some), then the floor's; with `count_instructions`, each
    import's instructions too (after every timed sample, so callgrind's processes load none of them)."""
    from local.layer import build_layer
    from local.template import functions, load_template

    layer, runtime = build_layer()
    specs = sorted(functions(load_template()).values(), key=lambda f: f.logical_id)
    results = []
    imports: list[tuple[list[Path], str]] = []  # each row's paths and import, for the instruction counts
    with tempfile.TemporaryDirectory() as tmp:
        stripped = Path(tmp) / "python"
        if bare:
            shutil.copytree(layer, stripped, ignore=shutil.ignore_patterns("__pycache__"))
        for spec in specs:
            if only and spec.logical_id not in only:
                continue
            code = REPO_ROOT / spec.code_uri
            bare_paths = [code, stripped, runtime] if bare else None
            results.append(_row(spec.logical_id, [code, layer, runtime], "import app", samples, bare_paths))
            imports.append(([code, layer, runtime], "import app"))
        results.append(_row(FLOOR[0], [layer, runtime], FLOOR[1], samples, [stripped, runtime] if bare else None))
        imports.append(([layer, runtime], FLOOR[1]))
    if count_instructions:
        # Counts do not depend on the load, so two at a time (this machine's cores); boto3's once for all rows.
        with ThreadPoolExecutor(max_workers=2) as pool:
            boto3 = pool.submit(import_instructions, [layer, runtime], "import boto3")
            counts = list(pool.map(lambda row: import_instructions(*row), imports))
        for result, count in zip(results, counts, strict=True):
            result.app_instructions, result.boto3_instructions = count, boto3.result()
    return results


def section(results: list[Result], *, stamp: str = "") -> list[str]:
    """The section's lines: one row per function, then the floor's; the instruction columns when counted."""
    functions = [r for r in results if r.function != FLOOR[0]]
    counted = any(r.app_instructions == r.app_instructions for r in results)  # NaN != NaN: not counted
    lines = [
        HEADING,
        "",
        *([stamp, ""] if stamp else []),
        "Each function's module imported in a fresh process as Lambda loads it: CodeUri, the layer (read-only, as",
        "`/opt` is on Lambda: only the bytecode the layer ships, `layers/common/python/Makefile`) and the runtime's",
        "boto3, with the template's default of tracing off. `boto3 ms` is `import boto3` alone, measured in the",
        "same run, its samples alternating with the function's; the ratio is the function's import over it",
        f"(issue 18's target: at most {TARGET}). All figures are medians of the samples; ms are `-X importtime`'s",
        "wall clock, which the other load of this shared machine stretches, so the CPU ratio (the processes' own",
        "CPU time) is given too.",
        "",
    ]
    if counted:
        lines += [
            "`M instr.` is the import's instructions in millions, counted by valgrind's callgrind (`--instructions`;",
            "valgrind is a bench prerequisite, `apt-get install valgrind`: this VM gives `perf stat` no hardware",
            "counters): one fresh process with the same paths and hash seed 0, less one that only sets the path.",
            "`instr. ratio` is the function's count over `import boto3`'s: the same in every run whatever the",
            "load, so with the CPU ratio it is the figure that decides (the wall ratio alone above the target is",
            "the load's). It is not a time: every instruction weighs alike, and the kernel's part (reading and",
            "mapping files) is not counted.",
            "",
        ]
    lines += [
        "What only requests need waits for the first: `+ first requests` is the import followed by what the",
        "function left to its requests (`coldstart.later`: the gate's key, scope, rate-limit and guild checks, the",
        "routes' services and stores; every route's at once) and what the first DynamoDB call imports (boto3 and",
        "botocore's client machinery). Without SnapStart the first requests pay it, with SnapStart it is loaded",
        "before the snapshot (`snapstart.before_snapshot`). `no bytecode` is the same import from the layer",
        "without its bytecode, which is what `BuildMethod: python3.13` deploys (wheels unpacked, nothing",
        "compiled). The last row is the floor of an HTTP function, with nothing of xpshop.",
        "",
    ]
    if counted:
        boto3 = next(r.boto3_instructions for r in results if r.boto3_instructions == r.boto3_instructions)
        lines += [
            f"`import boto3` alone: {boto3 / 1e6:.0f} M instructions.",
            "",
            "| function | import ms | boto3 ms | ratio | CPU ratio | M instr. | instr. ratio"
            " | + first requests, ms | no bytecode, ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
    else:
        lines += [
            "| function | import ms | boto3 ms | ratio | CPU ratio | + first requests, ms | no bytecode, ms |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
    for r in results:
        bare = "-" if r.bare_ms != r.bare_ms else f"{r.bare_ms:.0f}"
        counts = ""
        if counted:
            counts = (
                " | - | -"
                if r.app_instructions != r.app_instructions
                else f" | {r.app_instructions / 1e6:.0f} | {r.instructions_ratio:.2f}"
            )
        lines.append(
            f"| {r.function} | {r.app_ms:.0f} | {r.boto3_ms:.0f} | {r.ratio:.2f} | {r.cpu_ratio:.2f}{counts}"
            f" | {r.first_requests_ms:.0f} | {bare} |"
        )
    lines.append("")
    if not counted:
        above = [r.function for r in functions if max(r.ratio, r.cpu_ratio) > TARGET]
        lines.append(
            f"Above {TARGET}x by either ratio: {', '.join(above)}."
            if above
            else f"Every function is at or below {TARGET}x."
        )
        return lines
    # Counted: the instructions and the CPU decide; a wall-clock ratio alone above the target is the load's.
    above = [r.function for r in functions if max(r.instructions_ratio, r.cpu_ratio) > TARGET]
    wall_only = [r.function for r in functions if r.ratio > TARGET and r.function not in above]
    verdict = (
        f"Above {TARGET}x by instructions or CPU: {', '.join(above)}."
        if above
        else f"Every function is at or below {TARGET}x by instructions and by CPU."
    )
    if wall_only:
        verdict += f" Above it by wall clock alone (this run's load): {', '.join(wall_only)}."
    lines.append(verdict)
    return lines


def replace_section(document: str, lines: list[str]) -> str:
    """`document` with this section (under any of its titles) replaced by `lines`."""
    from bench import sections

    start = document.find("\n" + OLD_HEADING)
    if start >= 0:
        end = document.find("\n", start + 1)
        document = document[: start + 1] + HEADING + document[end:]
    return sections.insert(document, HEADING, lines)


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import OUTPUT, _machine

    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--samples", type=int, default=5, help="fresh processes per figure (median)")
    parser.add_argument("--no-bare", action="store_true", help="skip the layer without bytecode")
    parser.add_argument(
        "--instructions", action="store_true", help="count each import's instructions too (valgrind's callgrind)"
    )
    parser.add_argument("--no-write", action="store_true", help="print the section, do not write PERFORMANCE.md")
    parser.add_argument("functions", nargs="*", help="logical ids (default: every function)")
    args = parser.parse_args(argv)
    start_load = os.getloadavg()[0]
    results = measure(
        args.samples, bare=not args.no_bare, only=args.functions or None, count_instructions=args.instructions
    )
    load = os.getloadavg()[0]
    stamp = (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()} (load average {start_load:.1f} at the"
        f" start, {load:.1f} at the end), `python -m bench.imports --samples {args.samples}"
        f"{' --instructions' if args.instructions else ''}`."
    )
    lines = section(results, stamp=stamp)
    print("\n".join(lines))
    if not args.no_write and not args.functions:
        OUTPUT.write_text(replace_section(OUTPUT.read_text(encoding="utf-8"), lines), encoding="utf-8")
        print(f"updated the cold-import section of {OUTPUT.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
