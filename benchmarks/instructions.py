"""Instructions per turn under valgrind: a cost that does not wander with the machine, for W1, W2 and W3.

    python benchmarks/instructions.py                             # every workload, six configurations
    python benchmarks/instructions.py --only W2 W3 --configs baseline ours
    python benchmarks/instructions.py --only W1 --configs floor-in-turn attributed-in-turn minimal ours

Each configuration runs a workload's measured process twice under ``valgrind --tool=cachegrind`` (no cache
simulation), with few chats and with more; the difference in executed instructions over the difference in
turns is the cost of one turn, start-up, warm-up and the timing's reference work cancelling out. The servers
(scripted model, A2A server) run natively and are not counted: on W3 it is the client's share.

Instructions are not time: the SDK's cache misses are not in them, nor what a second thread costs the C
library. But repeated runs agree within about half a percent on W2 and W3 (2% on W1 under tracing) on a
machine whose timings wander by 10% from one process to the next, which is what W2 and W3 need. Needs
``valgrind`` on the PATH.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from configs import LABELS
from run import WORKER, check_openinference, stderr_tail, worker_env

CONFIGS = ("baseline", "idle-thread", "sdk-only", "ours", "ag2", "openinference")
"""Counted by default; ``--configs`` also takes the floor's configurations (below)."""
FLOOR_CONFIGS = ("minimal", "floor-in-turn", "attributed-in-turn")
"""The minimal wrapper (W1, W2) and the bare and attributed span in W1's turn (W1 only)."""
WORKLOADS: dict[str, tuple[dict[str, Any], int, int]] = {
    # the worker's spec, then the chats of the short run and of the long one (one timed batch in both)
    "W1": ({"task": "chat", "workload": "W1", "rounds": 10, "warmup": 20, "batches": 1}, 10, 60),
    "W2": ({"task": "chat", "workload": "W2", "rounds": 10, "warmup": 2, "batches": 1}, 1, 4),
    "W3": ({"task": "chat", "workload": "W3", "rounds": 5, "warmup": 1, "batches": 1}, 1, 4),
}
UNITS = {"W1": "turn", "W2": "turn", "W3": "remote turn (client)"}
INSTRUCTIONS = re.compile(r"I\s+refs:\s+([\d,]+)")


VALGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")


def counted(command: list[str], what: str) -> int:
    """Instructions a command (run from the benchmarks folder) executes under valgrind."""
    done = subprocess.run(
        [*VALGRIND, *command],
        cwd=WORKER.parent,
        env=worker_env() | {"PYTHONHASHSEED": "0"},  # the same dict and set layouts in every run
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    found = INSTRUCTIONS.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{what}: exit code {done.returncode}: {stderr_tail(done.stderr)}")
    return int(found.group(1).replace(",", ""))


def count(python: str, spec: dict[str, Any], scratch: Path) -> tuple[int, int]:
    """Instructions the worker executed and the turns it timed, for one spec."""
    out = scratch / f"{spec['workload']}-{spec['config']}-{spec['chats']}.json"
    instructions = counted([python, str(WORKER), json.dumps(spec), str(out)], f"{spec['workload']} {spec['config']}")
    return instructions, json.loads(out.read_text())["turns"]


def per_turn(python: str, workload: str, config: str, scratch: Path) -> float:
    """Instructions of one turn: the long run less the short one, over the turns between them."""
    spec, few, more = WORKLOADS[workload]
    short = count(python, {**spec, "config": config, "chats": few}, scratch)
    long = count(python, {**spec, "config": config, "chats": more}, scratch)
    return (long[0] - short[0]) / (long[1] - short[1])


def cell(instructions: float, baseline: float | None) -> str:
    """Thousands of instructions, with the ratio to the uninstrumented count when one is given."""
    text = f"{instructions / 1e3:,.0f}k"
    return text if baseline is None else f"{text} ({instructions / baseline:.3f}x)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument("--configs", nargs="+", choices=CONFIGS + FLOOR_CONFIGS, default=list(CONFIGS))
    parser.add_argument("--jobs", type=int, default=2, help="valgrind runs at a time (counts do not depend on it)")
    parser.add_argument("--json", metavar="PATH", help="also write the counts as JSON")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (e.g. apt-get install valgrind)")
    configs = [
        config for config in args.configs if config != "openinference" or not check_openinference(sys.executable)
    ]
    if "baseline" not in configs:
        configs.insert(0, "baseline")

    jobs = [(workload, config) for workload in args.only for config in configs]
    with tempfile.TemporaryDirectory(prefix="ag2-instructions-") as scratch, ThreadPoolExecutor(args.jobs) as pool:
        futures = {job: pool.submit(per_turn, sys.executable, *job, Path(scratch)) for job in jobs}
        counts = {job: future.result() for job, future in futures.items()}

    print("| workload | unit | " + " | ".join(LABELS[config] for config in configs) + " |")
    print("|---|---|" + "---|" * len(configs))
    for workload in args.only:
        base = counts[(workload, "baseline")]
        cells = [cell(counts[(workload, config)], None if config == "baseline" else base) for config in configs]
        print(f"| {workload} | instructions / {UNITS[workload]} | " + " | ".join(cells) + " |")
    if args.json:
        document = {workload: {config: counts[(workload, config)] for config in configs} for workload in args.only}
        Path(args.json).write_text(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
