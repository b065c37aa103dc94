"""Paired timings: every configuration's process side by side, taking turns one batch at a time.

    python benchmarks/interleaved.py                          # W2 and W3: 5 runs of 60 cycles (~22 minutes)
    python benchmarks/interleaved.py --only W1                # W1 with its floor configurations (~4 minutes)
    python benchmarks/interleaved.py --runs 8 --json paired.json
    python benchmarks/interleaved.py --only V1-W1 V1-W2 V1-W3   # AG2 1.x (``v1_workloads.py``), from its venv
    python benchmarks/interleaved.py --only V1-W4               # AG2 1.x: a turn served over AG-UI

``run.py`` runs each configuration in its own process, one after another. On a host whose speed wanders
from one moment to the next (on the 2-core VM of the README, one process's W2 batches range ±25%, in
stretches of a second or so), medians of whole processes carry that wander into the ratios. Here the
configurations' processes (the same workers and set-up as ``run.py``'s) are all started and warmed up
first; then they take turns, one batch each, in an order rotated every cycle, so that each
configuration's batch has the baseline's a fraction of a second away. Every cycle gives each configuration
the ratio of its batch to the baseline's batch of that cycle. What is left is what differs between
processes (where their memory landed, for one): so the whole is repeated with fresh processes (``--runs``),
and a second uninstrumented process in every run, the A/A control, shows how far two identical processes
come apart. The table gives the median of the ratios of every cycle of every run with a 95% confidence
interval from a two-level bootstrap (runs, then cycles), each run's own median, the median cost per turn,
and ours against each rival directly, cycle by cycle.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TextIO

from configs import LABELS
from run import (
    WORKER,
    check_made_spans,
    check_openinference,
    default_cpu,
    group_configs,
    rotated,
    stderr_tail,
    worker_env,
)

V1_WORKER = {"worker": "v1_workloads.py", "task": "chat"}
"""The worker of the AG2 1.x workloads, run under an interpreter that has ``ag2>=1``."""
BATCH: dict[str, dict[str, Any]] = {
    # one batch: ``batch_chats`` chats of the worker's spec (W1 ~3 ms, W2 ~60 ms, W3 ~200 ms)
    "W1": {"task": "chat", "workload": "W1", "rounds": 10, "warmup": 50, "batch_chats": 10},
    "W2": {"task": "chat", "workload": "W2", "rounds": 10, "warmup": 3, "batch_chats": 1},
    "W3": {"task": "chat", "workload": "W3", "rounds": 5, "warmup": 2, "batch_chats": 1},
    # AG2 1.x (``v1_workloads.py``): a chat is ``rounds`` asks, a turn each (V1-W1 ~35 ms, V1-W2 ~35 ms, V1-W3 ~100 ms);
    # on V1-W4 ``rounds`` AG-UI runs, a served turn each (~35 ms)
    "V1-W1": {**V1_WORKER, "workload": "W1", "rounds": 10, "warmup": 20, "batch_chats": 1},
    "V1-W2": {**V1_WORKER, "workload": "W2", "rounds": 5, "warmup": 10, "batch_chats": 1},
    "V1-W3": {**V1_WORKER, "workload": "W3", "rounds": 2, "warmup": 5, "batch_chats": 1},
    "V1-W4": {**V1_WORKER, "workload": "W4", "rounds": 3, "warmup": 5, "batch_chats": 1},
}
UNITS = {
    "W1": ("µs / turn", 1.0),
    "W2": ("µs / turn", 1.0),
    "W3": ("ms / remote turn", 1000.0),
    "V1-W1": ("µs / turn", 1.0),
    "V1-W2": ("µs / turn", 1.0),
    "V1-W3": ("ms / remote turn", 1000.0),
    "V1-W4": ("ms / served turn", 1000.0),
}
A_A_CONTROL = "baseline-again"
"""Beyond ``run.py``'s configurations, on every workload: a second uninstrumented process (what separates
two identical processes)."""
EXTRA_CONFIGS = {"W2": ("minimal",)}
"""Beyond ``run.py``'s: on W2 the minimal wrapper (ours' spans, bare): what the spans alone cost there."""
V1_CONFIGS = ("baseline", "ours", "ag2", "sdk-only", "minimal")
"""On AG2 1.x (workloads with a ``worker``): AG2's own tracing is its ``TelemetryMiddleware``; no OpenInference; the
minimal wrapper is the floor of ours' spans (the same spans, as many attributes, made bare)."""
BOOTSTRAP_SAMPLES = 2000
Run = dict[str, dict[str, Any]]
"""One set of side-by-side workers: each configuration's result."""
EXIT_TIMEOUT_S = 600
RIVALS = ("ag2", "openinference", "sdk-only", "minimal")
"""Also compared with ours directly, cycle by cycle: no uninstrumented batch in between to add its noise.
(Against the minimal wrapper: what our attributes and logic add to the same spans made bare.)"""


class PacedWorker:
    """One configuration's worker process (``workloads.py``, or the workload's own ``worker``), running a batch
    whenever it is told to."""

    def __init__(self, group: str, config: str, cpu: int | None, scratch: Path) -> None:
        self.config = config
        self.out = scratch / f"{group}-{config}.json"
        self._stderr = (scratch / f"{group}-{config}.err").open("w+")
        replies, self._reply_end = os.pipe()
        spec = {**BATCH[group], "config": config, "cpu": cpu, "pace_fd": self._reply_end}
        worker = WORKER.parent / spec.pop("worker", WORKER.name)
        self.process = subprocess.Popen(
            [sys.executable, str(worker), json.dumps(spec), str(self.out)],
            cwd=WORKER.parent,
            env=worker_env(),
            stdin=subprocess.PIPE,
            stderr=self._stderr,
            pass_fds=(self._reply_end,),
            text=True,
        )
        os.close(self._reply_end)
        self._replies: TextIO = os.fdopen(replies, encoding="ascii")

    def expect(self, word: str) -> None:
        """Wait for the worker's next word; a worker that died instead is an error with its stderr's tail."""
        line = self._replies.readline().strip()
        if line != word:
            self.process.wait(30)
            self._stderr.seek(0)
            tail = stderr_tail(self._stderr.read())
            code = self.process.returncode
            raise RuntimeError(f"{self.config}: expected {word!r}, got {line!r} (exit code {code}): {tail}")

    def batch(self) -> None:
        """Run one batch and wait for it to end."""
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        self.expect("done")

    def finish(self) -> dict[str, Any]:
        """Stop pacing; the worker's result once it has exited."""
        assert self.process.stdin is not None
        self.process.stdin.write("stop\n")
        self.process.stdin.close()
        self.process.wait(EXIT_TIMEOUT_S)
        if self.process.returncode != 0:
            raise RuntimeError(f"{self.config}: exit code {self.process.returncode}")
        return json.loads(self.out.read_text())

    def close(self) -> None:
        """Kill the worker if it still runs; close its pipes and files."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._replies.close()
        self._stderr.close()


@contextmanager
def workers(group: str, configs: list[str], cpu: int | None) -> Iterator[list[PacedWorker]]:
    """Every configuration's worker, started together and warmed up; killed at the end if still running."""
    with tempfile.TemporaryDirectory(prefix="ag2-paired-") as scratch, ExitStack() as stack:
        started = []
        for config in configs:
            worker = PacedWorker(group, config, cpu, Path(scratch))
            stack.callback(worker.close)
            started.append(worker)
        for worker in started:
            worker.expect("ready")
        yield started


def run_group(group: str, configs: list[str], cycles: int, cpu: int | None, log: Callable[[str], None]) -> Run:
    """``cycles`` cycles of one batch per configuration, order rotated per cycle; each worker's result."""
    with workers(group, configs, cpu) as started:
        for cycle in range(cycles):
            for worker in rotated(started, cycle):
                worker.batch()
            if (cycle + 1) % 25 == 0:
                log(f"{group}: {cycle + 1}/{cycles} cycles")
        results = {worker.config: worker.finish() for worker in started}
    for config, result in results.items():
        check_made_spans(config, result)
    return results


def configs_of(group: str, openinference: bool) -> list[str]:
    """``run.py``'s configurations of the workload (not the floor's own task: it has no turns), plus this script's;
    on AG2 1.x, ``V1_CONFIGS``."""
    if "worker" in BATCH[group]:
        return [*V1_CONFIGS, A_A_CONTROL]
    configs = [config for config in group_configs(group) if config != "floor"]
    configs += [A_A_CONTROL, *EXTRA_CONFIGS.get(group, ())]
    return configs if openinference else [config for config in configs if config != "openinference"]


def pairs(run: Run, config: str, reference: str = "baseline") -> Iterator[tuple[float, float]]:
    """Per cycle of one run: the configuration's cost per turn and the reference's in the same cycle."""
    return zip(run[config]["batches_us"], run[reference]["batches_us"], strict=True)


def paired_ratios(runs: list[Run], config: str, reference: str = "baseline") -> list[list[float]]:
    """Per run, per cycle: the configuration's cost per turn over the reference's in the same cycle."""
    return [[ours / base for ours, base in pairs(run, config, reference)] for run in runs]


def added(runs: list[Run], config: str) -> float:
    """The median over every cycle of what the configuration adds to the baseline's cost per turn, in µs."""
    return statistics.median(ours - base for run in runs for ours, base in pairs(run, config))


def floor_lines(runs: list[Run]) -> list[str]:
    """W1: ours' added cost against the floor (its spans per turn x what one bare span adds in the turn), and
    against the SDK span with our attributes."""
    if not {"ours", "floor-in-turn", "attributed-in-turn"} <= runs[0].keys():
        return []
    ours = added(runs, "ours")
    spans = statistics.median(run["ours"]["spans_per_turn"] for run in runs)
    lines = [f"Ours adds {ours:.1f} µs per turn (median of the cycles' differences), {spans:.2f} spans per turn."]
    for floor in ("floor-in-turn", "attributed-in-turn"):
        cost = added(runs, floor) * spans / statistics.median(run[floor]["spans_per_turn"] for run in runs)
        lines.append(f"{LABELS[floor]} x {spans:.2f}: {cost:.1f} µs; ours ÷ that = {ours / cost:.2f}x.")
    return [" ".join(lines)]


def median_interval(per_run: list[list[float]], seed: int = 0) -> tuple[float, float, float]:
    """The median over every cycle of every run, and a 95% confidence interval of it from a two-level
    bootstrap (runs drawn with replacement, then cycles within each drawn run): processes differ by more
    than cycles do, and the interval must carry that."""
    draw = random.Random(seed)

    def resampled_median() -> float:
        runs = draw.choices(per_run, k=len(per_run))
        return statistics.median(value for run in runs for value in draw.choices(run, k=len(run)))

    medians = sorted(resampled_median() for _ in range(BOOTSTRAP_SAMPLES))
    every = [value for run in per_run for value in run]
    return statistics.median(every), medians[int(0.025 * len(medians))], medians[int(0.975 * len(medians)) - 1]


def table(group: str, runs: list[Run]) -> list[str]:
    """The markdown rows of one workload: cost per turn and paired ratio, per configuration."""
    unit, scale = UNITS[group]

    def cost(config: str) -> str:
        return f"{statistics.median(us for run in runs for us in run[config]['batches_us']) / scale:,.2f}"

    def ratio(config: str, reference: str) -> str:
        per_run = paired_ratios(runs, config, reference)
        median, low, high = median_interval(per_run)
        each = ", ".join(f"{statistics.median(run):.3f}" for run in per_run)
        return f"{median:.3f}x [{low:.3f}, {high:.3f}] | {each}"

    rows = [f"| {group} | {LABELS['baseline']} | {cost('baseline')} | — | — |"]
    rows += [
        f"| {group} | {LABELS[config]} | {cost(config)} | {ratio(config, 'baseline')} |"
        for config in runs[0]
        if config != "baseline"
    ]
    rows += [
        f"| {group} | ours ÷ {LABELS[rival]} | — | {ratio('ours', rival)} |"
        for rival in RIVALS
        if rival in runs[0] and "ours" in runs[0]
    ]
    header = f"| workload | configuration | {unit} | paired ratio [95% CI] | each run |"
    return [header, "|---|---|---|---|---|", *rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(BATCH), default=["W2", "W3"])
    parser.add_argument("--cycles", type=int, default=60, help="batches per configuration and run (default: 60)")
    parser.add_argument("--runs", type=int, default=5, help="sets of fresh processes, one after another (default: 5)")
    parser.add_argument("--cpu", type=int, default=default_cpu(), help="pin the workers to this CPU; -1: no pinning")
    parser.add_argument("--json", metavar="PATH", help="also write every batch's timing as JSON")
    args = parser.parse_args()
    cpu = None if args.cpu is not None and args.cpu < 0 else args.cpu

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    openinference = check_openinference(sys.executable) is None
    document: dict[str, Any] = {}
    for group in args.only:
        configs = configs_of(group, openinference)
        runs = [run_group(group, configs, args.cycles, cpu, log) for _ in range(args.runs)]
        document[group] = runs
        print("\n".join([*table(group, runs), "", *floor_lines(runs)]) + "\n", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
