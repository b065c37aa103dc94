"""Overhead benchmark of the AG2 instrumentation: ours vs uninstrumented, AG2's own tracing and OpenInference.

    python benchmarks/run.py                 # full run (about 17 minutes on 2 cores)
    python benchmarks/run.py --quick         # a short run (about 5 minutes): same tables, fewer samples
    python benchmarks/run.py --json out.json # also write every measurement and the summary as JSON
    python benchmarks/run.py --profile W1    # cProfile ours on one workload and list its hot spots
    python benchmarks/run.py --profile W1 --profiler pyinstrument  # the same with pyinstrument's sampler

Every configuration x repetition runs in its own fresh Python process (``workloads.py``); the
configurations are alternated and their order rotated from round to round, and the tables report the
medians over the rounds and their ratios to the uninstrumented baseline of the same run. See README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configs import (
    CONFIGS,
    FLAT_CONFIGS,
    FLOOR_CONFIGS,
    MEMORY_CONFIGS,
    METRIC_CONFIGS,
    METRIC_GROUPS,
    SDK_CONFIGS,
    SDK_GROUPS,
    UNINSTRUMENTED,
    WORKLOADS,
)
from report import Report, Results, normalize

HERE = Path(__file__).resolve().parent
WORKER = HERE / "workloads.py"
PACKAGE = "opentelemetry_instrumentation_ag2"
PROFILERS = {"cprofile": "cProfile", "pyinstrument": "pyinstrument"}
"""``--profiler`` choices and their names."""

SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "full": {
        "W1": {"task": "chat", "workload": "W1", "rounds": 10, "chats": 1000, "warmup": 50, "batches": 20},
        "W1x100": {"task": "chat", "workload": "W1", "rounds": 100, "chats": 50, "warmup": 5},
        "W2": {"task": "chat", "workload": "W2", "rounds": 10, "chats": 50, "warmup": 3, "batches": 50},
        "W3": {"task": "chat", "workload": "W3", "rounds": 5, "chats": 20, "warmup": 2, "batches": 20},
        "floor": {"task": "floor", "spans": 50000, "warmup": 5000},
        "memory": {"task": "memory", "rounds": 10, "warmup": 200, "turns": 10000},
        "flat": {"task": "flat", "rounds": 260, "conversations": 3, "warmup": 20, "turns": [10, 500]},
    },
    "quick": {
        "W1": {"task": "chat", "workload": "W1", "rounds": 10, "chats": 200, "warmup": 20},
        "W1x100": {"task": "chat", "workload": "W1", "rounds": 100, "chats": 10, "warmup": 2},
        "W2": {"task": "chat", "workload": "W2", "rounds": 10, "chats": 10, "warmup": 2, "batches": 10},
        "W3": {"task": "chat", "workload": "W3", "rounds": 5, "chats": 5, "warmup": 1, "batches": 5},
        "floor": {"task": "floor", "spans": 20000, "warmup": 2000},
        "memory": {"task": "memory", "rounds": 10, "warmup": 100, "turns": 10000},
        "flat": {"task": "flat", "rounds": 260, "conversations": 1, "warmup": 20, "turns": [10, 500]},
    },
}
ROUNDS = {"full": 5, "quick": 2}
TIMEOUT_S = 600


@dataclass
class Job:
    """One fresh process: a task of one group under one configuration."""

    group: str
    config: str
    spec: dict[str, Any]
    python: str


# ---------------------------------------------------------------------------------------------- running


def worker_env() -> dict[str, str]:
    """The environment of every worker: ours less any ``OTEL_*`` setting, so that all configurations match."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def stderr_tail(stderr: str, lines: int = 15) -> str:
    """The last lines of a worker's stderr, for an error message."""
    return "\n".join(stderr.strip().splitlines()[-lines:])


def check_made_spans(config: str, result: dict[str, Any]) -> None:
    """``RuntimeError`` when an instrumented configuration's chats made no span (it did not instrument AG2)."""
    spanless = config in (*UNINSTRUMENTED, *SDK_CONFIGS)
    if not spanless and "spans_per_turn" in result and not result["spans_per_turn"]:
        raise RuntimeError(f"{config} made no spans: the configuration did not instrument AG2")


def run_job(job: Job, scratch: Path) -> dict[str, Any]:
    """Run one job in a fresh process; its result, or ``RuntimeError`` with the tail of its stderr."""
    out = scratch / f"{job.group}-{job.config}-{time.monotonic_ns()}.json"
    spec = {**job.spec, "config": job.spec.get("config", job.config)}
    done = subprocess.run(
        [job.python, str(WORKER), json.dumps(spec), str(out)],
        cwd=HERE,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"exit code {done.returncode}: {stderr_tail(done.stderr)}")
    return json.loads(out.read_text())


def rotated(items: list[Any], by: int) -> list[Any]:
    """``items`` rotated left by ``by`` places."""
    by %= len(items) or 1
    return items[by:] + items[:by]


def round_jobs(
    size: dict[str, dict[str, Any]], pythons: dict[str, str], index: int, groups: Iterable[str], cpu: int | None
) -> list[Job]:
    """The jobs of one round: every group's configurations, in an order rotated by the round's index."""
    jobs: list[Job] = []
    for group in groups:
        for config in rotated(group_configs(group), index):
            if config not in pythons:
                continue
            spec = dict(size["floor"] if config == "floor" else size[group], cpu=cpu)
            if group == "memory":
                spec["config"] = "baseline" if config == "baseline" else "ours"
                spec["tracemalloc"] = config == "ours-tracemalloc"
            if group == "flat" and config == "ours-content":
                spec["config"], spec["capture"] = "ours-content", "SPAN_ONLY"
            jobs.append(Job(group, config, spec, pythons[config]))
    return jobs


def group_configs(group: str) -> list[str]:
    """The configurations a group runs."""
    if group in WORKLOADS:
        floor = FLOOR_CONFIGS if group == "W1" else ()
        sdk = SDK_CONFIGS if group in SDK_GROUPS else ()
        return [*CONFIGS, *floor, *sdk, *(METRIC_CONFIGS if group in METRIC_GROUPS else ())]
    return list({"memory": MEMORY_CONFIGS, "flat": FLAT_CONFIGS}.get(group, ()))


def default_cpu() -> int | None:
    """The CPU the measured processes are pinned to by default: the last one, when this one may use several."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return None
    return cpus[-1] if len(cpus) > 1 else None


def check_openinference(python: str) -> str | None:
    """``None`` when OpenInference's AG2 instrumentor imports under ``python``, else why not."""
    probe = "import openinference.instrumentation.ag2 as m; print(m.__name__)"
    try:
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    except OSError as error:
        return f"cannot run {python}: {error}"
    if done.returncode != 0:
        return "not installed (pip install openinference-instrumentation-ag2)"
    return None


def run_all(args: argparse.Namespace, log: Callable[[str], None]) -> tuple[Results, dict[str, Any]]:
    """Every round of every group; the results and the run's settings."""
    mode = "quick" if args.quick else "full"
    size = SIZES[mode]
    rounds = args.rounds or ROUNDS[mode]
    results = Results()
    every = (*CONFIGS, *FLOOR_CONFIGS, *SDK_CONFIGS, *METRIC_CONFIGS, *MEMORY_CONFIGS, *FLAT_CONFIGS)
    pythons = {config: sys.executable for config in every}
    pythons["openinference"] = args.openinference_python or sys.executable
    reason = check_openinference(pythons["openinference"])
    if reason:
        results.unavailable["openinference"] = reason
        del pythons["openinference"]
    groups = args.only or [*WORKLOADS, "memory", "flat"]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ag2-bench-") as scratch:
        for index in range(rounds):
            for job in round_jobs(size, pythons, index, groups, args.cpu):
                if job.config in results.errors.get(job.group, {}):
                    continue  # it failed once: it is reported, not retried
                began = time.monotonic()
                try:
                    result = run_job(job, Path(scratch))
                    check_made_spans(job.config, result)
                except (RuntimeError, subprocess.TimeoutExpired) as error:
                    results.fail(job.group, job.config, str(error))
                    log(f"round {index + 1}/{rounds} {job.group:7} {job.config:17} FAILED: {error}")
                    continue
                results.add(job.group, job.config, result)
                took, elapsed = time.monotonic() - began, time.monotonic() - started
                where = f"round {index + 1}/{rounds} {job.group:7} {job.config:17}"
                log(f"{where} {summary_of(result)} [{took:.0f} s, {elapsed:.0f} s]")
    settings = {"mode": mode, "rounds": rounds, "sizes": size, "groups": groups, "pythons": pythons, "cpu": args.cpu}
    return results, settings


def summary_of(result: dict[str, Any]) -> str:
    """A one-line progress note of one process's result."""
    reference = statistics.median(result.get("batches_reference_ms") or result.get("conversations_reference_ms") or [0])
    if "spans_per_turn" in result and "us_per_turn" in result:
        return (
            f"{result['us_per_turn']:.1f} us/turn, {result['spans_per_turn']:.2f} spans/turn "
            f"(reference {reference:.2f} ms)"
        )
    if "us_per_turn" in result:
        return f"{result['us_per_turn']:.2f} us/span (reference {reference:.2f} ms)"
    if "rss_growth_mb" in result:
        return f"RSS +{result['rss_growth_mb']:.2f} MB over {result['turns']} turns"
    if "early_us" in result:
        early, late = result["early_turn"], result["late_turn"]
        return (
            f"turn {early}: {result['early_us']:.1f} us, turn {late}: {result['late_us']:.1f} us "
            f"(reference {reference:.2f} ms)"
        )
    return json.dumps(result)[:80]


# ---------------------------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    """CPU model, cores, OS, Python and the versions of the packages measured."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("ag2", "a2a-sdk", "opentelemetry-sdk", "opentelemetry-instrumentation-ag2"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
    }


def openinference_version(python: str) -> str | None:
    """The installed openinference-instrumentation-ag2 release under ``python``."""
    probe = "from importlib.metadata import version; print(version('openinference-instrumentation-ag2'))"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


# ---------------------------------------------------------------------------------------------- profile


def profile(args: argparse.Namespace) -> None:
    """Profile ours on one workload in a fresh process and print where its time goes."""
    group = args.profile
    mode = "quick" if args.quick else "full"
    spec = dict(SIZES[mode][group], config="ours", cpu=args.cpu, profiler=args.profiler)
    with tempfile.TemporaryDirectory(prefix="ag2-profile-") as scratch:
        spec["profile"] = str(Path(scratch) / f"ours.{args.profiler}")
        result = run_job(Job(group, "ours", spec, sys.executable), Path(scratch))
        timed = f"{result['turns']} turns timed, {summary_of(result)} profiled"
        print(f"# {PROFILERS[args.profiler]} of ours on {group} ({timed})")
        if args.profiler == "pyinstrument":
            print(Path(spec["profile"]).read_text())
        else:
            print_cprofile(spec["profile"], args.top)


def print_cprofile(path: str, top: int) -> None:
    """This package's functions by cumulative time, then every function by own time."""
    import pstats

    stats = pstats.Stats(path)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        if PACKAGE in filename:
            where = f"{filename.split(PACKAGE + os.sep)[-1]}:{line} {name}"
            rows.append((cumtime, tottime, calls, where))
    rows.sort(reverse=True)
    print(f"\nprofiled time {total:.2f} s; functions of {PACKAGE} by cumulative time:\n")
    print("| cumulative | share | own | calls | per call (cum.) | function |")
    print("|---|---|---|---|---|---|")
    for cumtime, tottime, calls, where in rows[:top]:
        per_call = cumtime / calls * 1e6 if calls else 0.0
        print(
            f"| {cumtime:.3f} s | {cumtime / total * 100:.1f}% | {tottime:.3f} s | {calls} | "
            f"{per_call:.1f} µs | `{where}` |"
        )
    print("\nall functions by own time:\n")
    stats.sort_stats("tottime").print_stats(top)


# ---------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short run: fewer rounds and samples")
    parser.add_argument("--json", metavar="PATH", help="also write every measurement and the summary as JSON")
    parser.add_argument("--rounds", type=int, help="rounds (default: 5, or 2 with --quick)")
    parser.add_argument(
        "--only", nargs="+", choices=[*WORKLOADS, "memory", "flat"], help="run only these groups (W1 brings the floor)"
    )
    parser.add_argument(
        "--openinference-python",
        metavar="PYTHON",
        help="interpreter with openinference-instrumentation-ag2 installed (default: this one)",
    )
    parser.add_argument(
        "--cpu",
        type=int,
        default=default_cpu(),
        help="pin every measured process (and the servers it starts) to this CPU; -1: no pinning "
        "(default: the last CPU when there are several)",
    )
    parser.add_argument("--profile", choices=list(WORKLOADS), help="profile ours on one workload instead")
    parser.add_argument(
        "--profiler",
        choices=list(PROFILERS),
        default="cprofile",
        help="with --profile: cProfile (deterministic, call counts) or pyinstrument (sampling, less distortion)",
    )
    parser.add_argument("--from-json", metavar="PATH", help="print the tables of an earlier run's --json file")
    parser.add_argument("--top", type=int, default=25, help="rows of the profile listing")
    args = parser.parse_args()
    if args.cpu is not None and args.cpu < 0:
        args.cpu = None
    if args.profile:
        profile(args)
        return

    if args.from_json:
        saved = json.loads(Path(args.from_json).read_text())
        results = Results(saved["runs"], saved["errors"], saved["unavailable"])
        saved["settings"]["reference_ms"] = normalize(results)  # again: older files lack newer normalized keys
        print(Report(results, saved["settings"], saved["machine"]).build())
        return

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    host = machine()
    results, settings = run_all(args, log)
    settings["reference_ms"] = normalize(results)
    oi_python = args.openinference_python or sys.executable
    if "openinference" not in results.unavailable:
        host["versions"]["openinference-instrumentation-ag2"] = openinference_version(oi_python) or "?"
    settings["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = Report(results, settings, host)
    print(report.build())
    if args.json:
        document = {
            "machine": host,
            "settings": settings,
            "summary": report.summary,
            "targets": report.targets,
            "runs": results.runs,
            "errors": results.errors,
            "unavailable": results.unavailable,
        }
        Path(args.json).write_text(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
