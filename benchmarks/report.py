"""The benchmark's statistics and report: every process's results, their normalisation to one machine speed,
the ratios against the uninstrumented baseline, the targets, and the markdown tables and JSON summary."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from configs import (
    CONFIGS,
    FLAT_CONFIGS,
    LABELS,
    MEMORY_CONFIGS,
    METRIC_GROUPS,
    SDK_GROUPS,
    WORKLOADS,
)

# targets
FLOOR_RATIO_MAX = 1.3
W2_RATIO_MAX = 1.05
W3_RATIO_MAX = 1.03
MEMORY_GROWTH_MAX_MB = 5.0
FLAT_GROWTH_MAX = 1.2
"""Content capture is "flat" when our added cost at turn 500 is at most this times that at turn 10."""


@dataclass
class Results:
    """Every process's result (or error) by group and configuration."""

    runs: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    """Configurations that cannot run here, with the reason shown in the tables."""

    def add(self, group: str, config: str, result: dict[str, Any]) -> None:
        self.runs.setdefault(group, {}).setdefault(config, []).append(result)

    def fail(self, group: str, config: str, error: str) -> None:
        self.errors.setdefault(group, {})[config] = error

    def values(self, group: str, config: str, key: str) -> list[float]:
        return [run[key] for run in self.runs.get(group, {}).get(config, []) if run.get(key) is not None]

    def median(self, group: str, config: str, key: str) -> float | None:
        values = self.values(group, config, key)
        return statistics.median(values) if values else None


def normalize(results: Results) -> float | None:
    """Put every timing at one machine speed: the run's median reference time.

    This host alternates between a fast and a slow state (about 2x apart, for seconds at a time). Each timed
    batch is bracketed by a fixed slice of interpreter work (the reference); a batch's per-turn cost divided
    by its reference time does not depend on the state. Multiplied by the median reference time of the whole
    run it is back in microseconds: ``norm_us`` (and ``norm_early_us`` / ``norm_late_us`` for the long
    conversations). The raw ``us_per_turn`` is kept too. CPU time per turn is scaled by the run's median
    reference time: ``norm_cpu_us``.
    """
    runs = [run for groups in results.runs.values() for config_runs in groups.values() for run in config_runs]
    references = [ref for run in runs for ref in run.get("batches_reference_ms", [])]
    references += [ref for run in runs for ref in run.get("conversations_reference_ms", [])]
    if not references:
        return None
    reference = statistics.median(references)

    def scaled(values: list[float], refs: list[float]) -> float:
        return statistics.median(value / ref for value, ref in zip(values, refs, strict=True)) * reference

    for run in runs:
        if run.get("batches_us"):
            run["norm_us"] = scaled(run["batches_us"], run["batches_reference_ms"])
            if run.get("cpu_us_per_turn"):
                run["norm_cpu_us"] = run["cpu_us_per_turn"] * reference / statistics.median(run["batches_reference_ms"])
        if run.get("conversations_early_us"):
            refs = run["conversations_reference_ms"]
            run["norm_early_us"] = scaled(run["conversations_early_us"], refs)
            run["norm_late_us"] = scaled(run["conversations_late_us"], refs)
    return reference


def spread(values: list[float]) -> float | None:
    """Half the range of the rounds' values, relative to their median."""
    if len(values) < 2:
        return None
    return (max(values) - min(values)) / 2 / statistics.median(values)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**pass**" if ok else "**MISS**")


class Report:
    """The markdown tables and the JSON summary of one run."""

    def __init__(self, results: Results, settings: dict[str, Any], host: dict[str, Any]) -> None:
        self.results = results
        self.settings = settings
        self.host = host
        self.lines: list[str] = []
        self.summary: dict[str, Any] = {}
        self.targets: list[dict[str, Any]] = []

    def out(self, line: str = "") -> None:
        self.lines.append(line)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.out("| " + " | ".join(header) + " |")
        self.out("|" + "|".join("---" for _ in header) + "|")
        for row in rows:
            self.out("| " + " | ".join(row) + " |")
        self.out()

    def missing(self, group: str, config: str) -> str | None:
        """Why a cell has no number, or ``None`` when it has one."""
        if config in self.results.unavailable:
            return self.results.unavailable[config]
        error = self.results.errors.get(group, {}).get(config)
        if error:
            return "failed: " + error.splitlines()[-1][:120].replace("|", "/")
        if not self.results.values(group, config, next(iter(self.keys(group)))):
            return "not run"
        return None

    @staticmethod
    def keys(group: str) -> tuple[str, ...]:
        return ("us_per_turn",) if group in WORKLOADS else ("rss_growth_mb",) if group == "memory" else ("early_us",)

    def target(self, name: str, measured: str, ok: bool | None, within_noise: bool = False) -> None:
        """A target's verdict; ``within_noise`` when the margin is smaller than the round-to-round noise."""
        self.targets.append({"target": name, "measured": measured, "pass": ok, "within_noise": within_noise})

    def build(self) -> str:
        self.header()
        self.costs()
        self.spans_and_memory()
        self.garbage_collection()
        self.floor()
        self.sdk_share()
        self.metrics_share()
        self.memory()
        self.flatness()
        self.comparisons()
        self.out("## Targets")
        self.out()
        self.table(
            ["target", "measured", "result"],
            [
                [t["target"], t["measured"], verdict(t["pass"]) + (" (within noise)" if t["within_noise"] else "")]
                for t in self.targets
            ],
        )
        self.out(
            "(within noise): the margin to the target is smaller than the round-to-round spread (± half the range "
            "over rounds) of the configurations compared, so this run cannot tell pass from miss. "
            "`interleaved.py` times W2 and W3 in pairs, batch by batch, which settles them to about ±2%."
        )
        self.out()
        return "\n".join(self.lines)

    def header(self) -> None:
        host, settings = self.host, self.settings
        versions = ", ".join(f"{name} {release}" for name, release in host["versions"].items())
        self.out("# AG2 instrumentation overhead")
        self.out()
        self.out(f"- machine: {host['cpu']}, {host['cores']} cores, {host['os']}, Python {host['python']}")
        self.out(f"- packages: {versions}")
        self.out(
            f"- run: {settings['mode']}, {settings['rounds']} rounds, every configuration x round in a fresh "
            f"process, order rotated per round; {settings.get('finished', '')}"
        )
        self.out(
            "- every instrumented configuration: TracerProvider + BatchSpanProcessor (defaults) + an exporter "
            "that discards spans; also the global provider"
        )
        cpu = settings.get("cpu")
        self.out(
            f"- measured processes (and the servers they start) pinned to CPU {cpu}"
            if cpu is not None
            else "- measured processes not pinned to a CPU"
        )
        self.out()

    def cell(self, group: str, config: str, scale: float, digits: int, key: str = "norm_us") -> str:
        reason = self.missing(group, config)
        if reason:
            return reason
        values = [value / scale for value in self.results.values(group, config, key)]
        if not values:
            return "—"
        median = statistics.median(values)
        text = f"{median:.{digits}f}"
        base = self.results.median(group, "baseline", key)
        if config != "baseline" and base:
            text += f" ({median * scale / base:.2f}x)"
        noise = spread(values)
        if noise is not None:
            text += f" ±{noise * 100:.0f}%"
        return text

    def costs(self) -> None:
        reference = self.settings.get("reference_ms")
        for key, title in (
            ("norm_us", f"normalized to the run's median machine speed (reference work {reference or 0:.2f} ms)"),
            ("us_per_turn", "raw, not normalized"),
            ("norm_cpu_us", "CPU time of all the workload's processes (client, A2A server, model), normalized"),
        ):
            self.out(f"## Cost per turn, {title}")
            self.out()
            self.out("Median over rounds; (ratio to uninstrumented); ± half the range over rounds.")
            self.out()
            rows = []
            for group, name in WORKLOADS.items():
                if group not in self.results.runs and group not in self.results.errors:
                    continue
                remote = group == "W3"
                scale, digits = (1000.0, 2) if remote else (1.0, 1) if group != "W2" else (1.0, 0)
                unit = "ms / remote turn" if remote else "µs / turn"
                cells = [self.cell(group, config, scale, digits, key) for config in CONFIGS]
                rows.append([f"{name} ({self.turns_per_chat(group)})", unit, *cells])
                summary_key = {"norm_us": "us_per_turn", "us_per_turn": "us_per_turn_raw"}.get(key, key)
                self.summary.setdefault(summary_key, {})[group] = {
                    config: self.results.median(group, config, key) for config in CONFIGS
                }
            self.table(["workload", "unit"] + [LABELS[config] for config in CONFIGS], rows)
        self.out(
            "A turn is one agent reply (one `generate_reply`); in W2 every turn is an LLM call; "
            "in W3 a remote turn is one call of the remote agent (a local reply sits between two). "
            "Targets are judged on the normalized table. CPU time is user + system time of all threads: "
            "the measured process's during its batches, the servers' (10 ms ticks) over the whole timed stretch."
        )
        self.out()

    def turns_per_chat(self, group: str) -> str:
        spec = self.settings["sizes"][group]
        if group == "W3":
            return f"{spec['rounds']} remote turns per chat"
        return f"{2 * spec['rounds'] - 1} turns per chat"

    def config_table(self, title: str, cell: Callable[[str, str], str | None], note: str) -> None:
        """A table of every workload run by every compared configuration; ``cell`` gives one cell (``None``: —)."""
        self.out(f"## {title}")
        self.out()
        rows = []
        for group in WORKLOADS:
            if group in self.results.runs:
                cells = [None if self.missing(group, config) else cell(group, config) for config in CONFIGS]
                rows.append([group, *(text or "—" for text in cells)])
        self.table(["workload"] + [LABELS[config] for config in CONFIGS], rows)
        self.out(note)
        self.out()

    def spans_and_memory(self) -> None:
        def cell(group: str, config: str) -> str:
            spans = self.results.median(group, config, "spans_per_turn") or 0.0
            rss = (self.results.median(group, config, "peak_rss_kb") or 0) / 1024
            text = f"{spans:.2f} spans, {rss:.0f} MB"
            if group == "W3":
                server = (self.results.median(group, config, "server_peak_rss_kb") or 0) / 1024
                text += f" (server {server:.0f} MB)"
            dropped = sum(self.results.values(group, config, "dropped"))
            if dropped:
                text += f", {dropped} dropped by a full queue"
            self.summary.setdefault("spans_per_turn", {}).setdefault(group, {})[config] = spans
            self.summary.setdefault("peak_rss_mb", {}).setdefault(group, {})[config] = rss
            return text

        self.config_table(
            "Spans per turn and peak RSS (median over rounds)",
            cell,
            "W3's spans are the client's and the server's together (each process exports its own). "
            "Peak RSS is `ru_maxrss` of the process that ran the chats.",
        )

    def garbage_collection(self) -> None:
        def cell(group: str, config: str) -> str | None:
            runs = [run for run in self.results.runs[group].get(config, []) if "gc_collections" in run]
            if not runs:
                return None
            per_thousand = [
                statistics.median(run["gc_collections"][generation] / run["turns"] * 1000 for run in runs)
                for generation in range(3)
            ]
            microseconds = statistics.median(run["gc_us_per_turn"] for run in runs)
            self.summary.setdefault("gc_us_per_turn", {}).setdefault(group, {})[config] = microseconds
            return f"{microseconds:.1f} µs a turn; " + " / ".join(f"{count:.1f}" for count in per_thousand)

        self.config_table(
            "Garbage collection while timed (median over rounds)",
            cell,
            "Time in the collector per turn, and young / middle / full collections per 1,000 turns (gc callbacks). "
            "The batch processor holds every ended span until it exports it, so spans make the collector run more "
            "often; full collections are few, and their share varies from round to round.",
        )

    def floor(self) -> None:
        ours = self.results.median("W1", "ours", "norm_us")
        base = self.results.median("W1", "baseline", "norm_us")
        spans = self.results.median("W1", "ours", "spans_per_turn")
        if None in (ours, base, spans):
            return
        assert ours is not None and base is not None and spans is not None
        added = ours - base
        minimal = self.results.median("W1", "minimal", "norm_us")
        minimal_added = None if minimal is None else minimal - base
        floors = [  # (summary key, where the span was timed, its cost, whether the target is judged against it)
            ("floor", "tight loop", self.results.median("W1", "floor", "norm_us"), True),
            ("floor_in_turn", "inside the W1 turn", self._span_in_turn("floor-in-turn", base), True),
            (
                "attributed_in_turn",
                "inside the W1 turn, our attributes",
                self._span_in_turn("attributed-in-turn", base),
                False,
            ),
        ]
        self.out("## W1 floor: our added cost per turn vs the bare SDK spans it makes")
        self.out()
        rows = []
        for key, where, bare, judged in floors:
            if bare is None:
                continue
            floor = spans * bare
            ratio = added / floor
            judgement = f"target ≤ {FLOOR_RATIO_MAX}: {verdict(ratio <= FLOOR_RATIO_MAX)}" if judged else "reference"
            rows.append(
                [
                    where,
                    f"{bare:.1f} µs",
                    f"{floor:.1f} µs",
                    f"{added:.1f} µs",
                    f"{ratio:.2f} ({judgement})",
                    "—" if minimal_added is None else f"{minimal_added:.1f} µs ({minimal_added / floor:.2f}x)",
                ]
            )
            self.summary[key] = {"bare_us": bare, "spans_per_turn": spans, "floor_us": floor, "added_us": added}
            self.summary[key]["minimal_added_us"] = minimal_added
            if judged:
                self.target(
                    f"W1 added cost ≤ {FLOOR_RATIO_MAX}x floor ({where})",
                    f"{added:.1f} µs / {floor:.1f} µs = {ratio:.2f}x",
                    ratio <= FLOOR_RATIO_MAX,
                )
        headers = ["bare span timed", "one bare SDK span", f"floor / turn ({spans:.3f} spans)", "our added cost / turn"]
        self.table([*headers, "added ÷ floor", "minimal wrapper's added cost / turn (÷ floor)"], rows)
        self.out(
            "bare SDK span = one `tracer.start_as_current_span()` entered and left, same provider, processor and "
            "exporter: in a tight loop in its own process, and inside W1's turns (W1's reply function enters one, "
            "uninstrumented agents; its cost is that run's µs/turn less the uninstrumented one). floor = our spans "
            "per turn x that. The minimal wrapper makes the same spans as ours on W1 (`invoke_agent {name}` around "
            "`generate_reply`, `conversation {name}` around `initiate_chat`) with nothing else (no attributes, no "
            "context values, no metrics): what any instrumentation making these spans costs inside the workload. "
            "The last row times the span of our W1 turns as the SDK alone makes it (same name, same four "
            "attributes): measured against it, the added cost is our own logic only, the SDK's price of the "
            "attributes left out."
        )
        self.out()

    def _span_in_turn(self, config: str, base: float) -> float | None:
        """One span's cost inside W1's turns under a ``*-in-turn`` configuration: its µs/turn over the baseline's."""
        value = self.results.median("W1", config, "norm_us")
        spans = self.results.median("W1", config, "spans_per_turn")
        return (value - base) / spans if value is not None and spans else None

    def sdk_share(self) -> None:
        rows = []
        for group in SDK_GROUPS:
            for key, measure in (("norm_us", "time"), ("norm_cpu_us", "CPU")):
                names = ("baseline", "idle-thread", "sdk-only", "ours")
                base, idle, sdk, ours = (self.results.median(group, name, key) for name in names)
                if base is None or sdk is None or ours is None:
                    continue
                idle_ratio = "—" if idle is None else f"{idle / base:.3f}x"
                rows.append(
                    [
                        WORKLOADS[group],
                        measure,
                        idle_ratio,
                        f"{sdk / base:.3f}x",
                        f"{ours / base:.3f}x",
                        f"{ours / sdk:.3f}x",
                    ]
                )
                self.summary.setdefault("sdk_only", {}).setdefault(group, {})[measure] = {
                    "idle_thread": None if idle is None else idle / base,
                    "sdk_only": sdk / base,
                    "ours": ours / base,
                    "ours_over_sdk": ours / sdk,
                }
        if not rows:
            return
        self.out("## The SDK alone: what a TracerProvider with a batch processor costs before any span")
        self.out()
        headers = ["workload", "measure", "an idle thread ÷ uninstrumented", "SDK alone ÷ uninstrumented"]
        self.table([*headers, "ours ÷ uninstrumented", "ours ÷ SDK alone"], rows)
        self.out(
            "SDK alone = the same provider, batch processor and exporter as every instrumented configuration, "
            "and nothing making spans (a2a-sdk's built-in tracing off, as ours turns it off). Its export thread "
            "makes every process multi-threaded; the idle thread (no OpenTelemetry at all, one thread started "
            "in every process of the workload) shows what that alone costs. It is measurable on W3: AG2's A2A "
            "client builds a new HTTP client and TLS context for every request, and loading the CA bundle is "
            "slower in a multi-threaded process. Time: normalized medians; CPU: normalized medians of all the "
            "workload's processes."
        )
        self.out()

    def metrics_share(self) -> None:
        rows = []
        for group in METRIC_GROUPS:
            base, ours, metered = (
                self.results.median(group, name, "norm_us") for name in ("baseline", "ours", "ours-metrics")
            )
            if base is None or ours is None or metered is None:
                continue
            rows.append(
                [
                    WORKLOADS[group],
                    f"{ours:.1f} µs ({ours / base:.2f}x)",
                    f"{metered:.1f} µs ({metered / base:.2f}x)",
                    f"{metered - ours:.1f} µs",
                ]
            )
            self.summary.setdefault("with_metrics", {})[group] = {"ours_us": ours, "ours_metrics_us": metered}
        if not rows:
            return
        self.out("## Ours with a MeterProvider: the metrics beside the spans")
        self.out()
        self.table(
            [
                "workload",
                "ours, spans only (÷ uninstrumented)",
                "ours with a MeterProvider (÷ uninstrumented)",
                "the metrics' cost per turn",
            ],
            rows,
        )
        self.out(
            "The other columns give ours no MeterProvider (AG2's own tracing and OpenInference record no metrics); "
            "`opentelemetry-instrument` sets one up by default. Here an SDK MeterProvider with a periodic reader "
            "(60 s) and a discarding exporter: each local turn records `gen_ai.invoke_agent.duration`, each LLM "
            "call `gen_ai.client.operation.duration` and two `gen_ai.client.token.usage` points. "
            "`OTEL_METRICS_EXPORTER=none` leaves them out."
        )
        self.out()

    def memory(self) -> None:
        if "memory" not in self.results.runs:
            return
        rows = []
        for config in MEMORY_CONFIGS:
            if self.missing("memory", config):
                continue
            get = lambda key, config=config: self.results.median("memory", config, key)  # noqa: E731
            traced = get("traced_growth_kb")
            traced_text = "—" if traced is None else f"{traced:.0f} KB ({get('traced_growth_ours_kb'):.0f} KB ours)"
            label = {"baseline": "uninstrumented", "ours": "ours", "ours-tracemalloc": "ours, under tracemalloc"}
            rows.append(
                [
                    label[config],
                    f"{get('rss_before_mb'):.1f} MB",
                    f"{get('rss_after_mb'):.1f} MB",
                    f"{get('rss_growth_mb'):+.2f} MB",
                    traced_text,
                ]
            )
        turns = self.settings["sizes"]["memory"]["turns"]
        self.out(f"## Memory growth over {turns:,} W1 turns (after a warm-up; median over rounds)")
        self.out()
        self.table(
            ["configuration", "RSS after warm-up", f"RSS after {turns:,} more turns", "growth", "tracemalloc growth"],
            rows,
        )
        growth = self.results.median("memory", "ours", "rss_growth_mb")
        worst = max(self.results.values("memory", "ours", "rss_growth_mb"), default=None)
        if growth is not None and worst is not None:
            self.summary["memory_growth_mb"] = {"median": growth, "worst": worst}
            self.target(
                f"memory growth over {turns:,} turns < {MEMORY_GROWTH_MAX_MB:.0f} MB (ours)",
                f"{growth:+.2f} MB (worst round {worst:+.2f} MB)",
                worst < MEMORY_GROWTH_MAX_MB,
            )

    def flatness(self) -> None:
        if "flat" not in self.results.runs:
            return
        spec = self.settings["sizes"]["flat"]
        early_turn, late_turn = spec["turns"]
        base_early = self.results.median("flat", "baseline", "norm_early_us")
        base_late = self.results.median("flat", "baseline", "norm_late_us")
        rows = []
        for config in FLAT_CONFIGS:
            reason = self.missing("flat", config)
            label = LABELS[config]
            if reason:
                rows.append([label, reason, "", "", "", ""])
                continue
            early = self.results.median("flat", config, "norm_early_us") or 0.0
            late = self.results.median("flat", config, "norm_late_us") or 0.0
            if config == "baseline" or base_early is None or base_late is None:
                rows.append([label, f"{early:.1f}", f"{late:.1f}", f"{late / early:.2f}", "—", "—"])
                continue
            added_early, added_late = early - base_early, late - base_late
            rows.append(
                [
                    label,
                    f"{early:.1f}",
                    f"{late:.1f}",
                    f"{late / early:.2f}",
                    f"{added_early:.1f} → {added_late:.1f}",
                    f"{added_late / added_early:.2f}" if added_early > 0 else "—",
                ]
            )
            if config == "ours-content" and added_early > 0:
                growth = added_late / added_early
                self.summary["content_flat"] = {"added_early_us": added_early, "added_late_us": added_late}
                self.target(
                    f"content capture (SPAN_ONLY) flat: added cost at turn {late_turn} ≤ {FLAT_GROWTH_MAX}x "
                    f"that at turn {early_turn}",
                    f"{added_early:.1f} → {added_late:.1f} µs ({growth:.2f}x)",
                    growth <= FLAT_GROWTH_MAX,
                )
        turns = 2 * spec["rounds"] - 1
        self.out(
            f"## Per-turn cost as one conversation grows: turn {early_turn} vs turn {late_turn} "
            f"(W1, one {turns}-turn conversation; µs)"
        )
        self.out()
        self.table(
            [
                "configuration",
                f"turn {early_turn}",
                f"turn {late_turn}",
                "late ÷ early",
                "added over uninstrumented, early → late",
                "added: late ÷ early",
            ],
            rows,
        )
        self.out(
            "Each value is the median over turns n-4 … n+5 of the time between consecutive replies, median over "
            "conversations and rounds. AG2's own tracing and OpenInference record message content always."
        )
        self.out()

    def comparisons(self) -> None:
        for group in WORKLOADS:
            ours = self.results.median(group, "ours", "norm_us")
            base = self.results.median(group, "baseline", "norm_us")
            if ours is None or base is None:
                continue
            noise_ours = self.noise(group, "ours")
            for config in ("ag2", "openinference"):
                reason = self.missing(group, config)
                other = self.results.median(group, config, "norm_us")
                name = f"{group}: ours below {LABELS[config]}"
                if reason or other is None:
                    self.target(name, reason or "not run", None)
                    continue
                noise = max(noise_ours, self.noise(group, config))
                measured = f"{ours / base:.3f}x vs {other / base:.3f}x"
                self.target(name, measured, ours < other, within_noise=abs(ours - other) / other < noise)
            limit = {"W2": W2_RATIO_MAX, "W3": W3_RATIO_MAX}.get(group)
            if limit:
                noise = max(noise_ours, self.noise(group, "baseline"))
                ratio = ours / base
                self.target(
                    f"{group}: ours ≤ {limit}x uninstrumented",
                    f"{ratio:.3f}x",
                    ratio <= limit,
                    within_noise=abs(ratio - limit) < noise,
                )

    def noise(self, group: str, config: str) -> float:
        """Half the range over rounds of a configuration's per-turn cost, relative to its median."""
        return spread(self.results.values(group, config, "norm_us")) or 0.0
