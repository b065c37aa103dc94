"""One benchmark measurement in a fresh Python process, started by ``run.py``.

    python benchmarks/workloads.py '{"task": "chat", "workload": "W1", "config": "ours", ...}' OUT.json

Tasks:

* ``chat``: time whole chats of a workload (W1 local reply functions, W2 a scripted model, W3 an A2A
  server) after a warm-up; per-turn cost, spans per turn, peak RSS, garbage collection while timed.
* ``floor``: time one bare SDK span (``start_as_current_span``) with the same processor and exporter.
  (``chat`` under the ``floor-in-turn`` configuration times the same span inside W1's turns, under
  ``attributed-in-turn`` the span of our W1 turns with its attributes, made by the SDK alone.)
* ``memory``: RSS (and optionally tracemalloc) after a warm-up vs after N more W1 turns.
* ``flat``: per-turn cost at turn 10 vs turn 500 of one long W1 conversation.

The result is written as JSON to the path given; AG2's console output goes to ``/dev/null``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configs import Telemetry

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCRIPTED_MODEL = ROOT / "tests" / "support" / "scripted_model.py"
A2A_SERVER = HERE / "a2a_server.py"
MODEL_REPLY = "Noted."
FIRST_MESSAGE = "Hello, shall we go through the checklist?"
PACKAGE = "opentelemetry_instrumentation_ag2"
PYINSTRUMENT_INTERVAL_S = 0.0001
"""pyinstrument's sampling interval: a W1 turn lasts tens of microseconds."""
PYINSTRUMENT_HIDE_BELOW = 0.005
"""pyinstrument's call tree leaves out frames under this share of the profiled time."""


def peak_rss_kb() -> int:
    """Peak resident set size of this process so far, in KiB (``ru_maxrss`` on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def current_rss_bytes() -> int:
    """Resident set size now, in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def llm_config(base_url: str) -> Any:
    """AG2's real OpenAI client pointed at the scripted model."""
    from autogen import LLMConfig

    entry = {"api_type": "openai", "model": "gpt-4o-mini", "api_key": "x", "base_url": base_url, "max_retries": 0}
    return LLMConfig(entry, cache_seed=None)


@dataclass
class Started:
    """A server process started in the background: where it listens and its pid (for its CPU time)."""

    url: str
    pid: int


@contextlib.contextmanager
def background(command: list[str], what: str) -> Iterator[Started]:
    """Start a server process, yield the URL of its ``READY <url>`` line, terminate it at the end."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith("READY "):
                raise RuntimeError(f"{what} did not start: {line!r}")
            yield Started(line.split(maxsplit=1)[1].strip(), process.pid)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def scripted_model() -> contextlib.AbstractContextManager[Started]:
    """The scripted OpenAI-compatible model in its own process."""
    command = [sys.executable, str(SCRIPTED_MODEL), "--port", "0", "--default", MODEL_REPLY]
    return background(command, "the scripted model")


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system, every thread) these processes have used so far, in 10 ms ticks."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def canned_reply(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> tuple[bool, str]:
    """A registered reply function: answers at once, no LLM."""
    return True, "Noted, next item."


def bare_span_reply(tracer: Any, attributed: bool = False) -> Callable:
    """``canned_reply`` entering one SDK span first: the floor timed inside the workload.

    ``attributed``: the span our instrumentation makes for the turn, name and attributes alike, made by the SDK
    alone (what those attributes cost the SDK, with none of our logic).
    """
    from opentelemetry_instrumentation_ag2 import attributes as attr  # here: the baseline never imports us

    conversation_id = uuid.uuid4().hex

    def reply(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> tuple[bool, str]:
        if attributed:
            name = recipient.name
            attributes = {
                attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_AGENT,
                attr.GEN_AI_OPERATION_NAME: attr.OPERATION_INVOKE_AGENT,
                attr.GEN_AI_AGENT_NAME: name,
                attr.GEN_AI_CONVERSATION_ID: conversation_id,
            }
            with tracer.start_as_current_span("invoke_agent " + name, attributes=attributes):
                pass
        else:
            with tracer.start_as_current_span("bare"):
                pass
        return canned_reply(recipient, messages, sender, config)

    return reply


def local_agents(telemetry: Telemetry, model_url: str | None = None, reply: Callable = canned_reply) -> tuple:
    """Two agents: with a registered reply function each (W1) or both answering through the model (W2)."""
    from autogen import ConversableAgent

    config = llm_config(model_url) if model_url else False
    agents = tuple(ConversableAgent(name, llm_config=config, human_input_mode="NEVER") for name in ("alice", "bob"))
    if not model_url:
        for agent in agents:
            agent.register_reply([ConversableAgent, None], reply, position=0)
    telemetry.instrument_agents(agents, llm=bool(model_url))
    return agents


def chat_turns(result: Any) -> int:
    """Agent turns (replies) of a finished chat: its history less the opening message."""
    return len(result.chat_history) - 1


def run_local(spec: dict[str, Any], telemetry: Telemetry, model: Started | None) -> dict[str, Any]:
    """W1 / W2: ``warmup`` then ``chats`` chats of ``rounds`` rounds, timed in batches."""
    reply = canned_reply
    if telemetry.config in ("floor-in-turn", "attributed-in-turn"):
        reply = bare_span_reply(telemetry.tracer(), attributed=telemetry.config == "attributed-in-turn")
    alice, bob = local_agents(telemetry, model.url if model else None, reply)
    rounds = spec["rounds"]

    def chat() -> int:
        return chat_turns(alice.initiate_chat(bob, message=FIRST_MESSAGE, max_turns=rounds, silent=True))

    return timed_chats(spec, telemetry, chat, [model.pid] if model else []) | {"spans": telemetry.spans()}


def timed_chats(spec: dict[str, Any], telemetry: Telemetry, chat: Callable[[], int], servers: list[int]) -> dict:
    """``warmup`` chats, then the timed ones in batches; ``chat`` runs one chat and returns its turns.

    ``all_turns`` counts the warm-up's too (a server's spans include them).
    """
    warm_turns = sum(chat() for _ in range(spec["warmup"]))
    telemetry.reset()
    warm_reference()
    gc.collect()
    profiler = start_profile(spec)
    batches: list[Batch] = []
    servers_before = cpu_seconds(servers)
    with GcWatch() as collections:
        for size in batch_sizes(spec):
            with timed(batches) as batch:
                for _ in range(size):
                    batch.units += chat()
    servers_cpu = cpu_seconds(servers) - servers_before
    stop_profile(profiler, spec)
    result = timing(batches, servers_cpu) | {"all_turns": warm_turns + sum(batch.units for batch in batches)}
    return result | collections.per_turn(result["turns"])


def _reference_work() -> int:
    """A fixed slice of ordinary interpreter work: loops, dicts, tuples, small strings."""
    table: dict[int, tuple[int, str]] = {}
    for number in range(16000):
        table[number & 255] = (number, str(number & 15))
    return len(table)


def reference_ms() -> float:
    """How long the reference work takes right now (this kind of host alternates between a fast and a slow state)."""
    started = time.perf_counter()
    _reference_work()
    return (time.perf_counter() - started) * 1e3


def warm_reference() -> None:
    """Run the reference work a few times so that its first timed run is not a cold one."""
    for _ in range(3):
        reference_ms()


@dataclass
class Batch:
    """One timed batch: its duration, how many units (turns, spans) it did, and the reference time around it."""

    seconds: float = 0.0
    units: int = 0
    reference_ms: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time of this process (all its threads) during the batch."""


class GcWatch:
    """The garbage collections made while the block runs, by generation, and the time they took."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.seconds = 0.0
        self._started = 0.0

    def _observe(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.collections[info["generation"]] += 1
            self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._observe)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._observe)

    def per_turn(self, turns: int) -> dict[str, Any]:
        """``gc_us_per_turn`` and ``gc_collections`` (young, middle, full) for the result."""
        return {"gc_us_per_turn": self.seconds / turns * 1e6 if turns else 0.0, "gc_collections": self.collections}


@contextlib.contextmanager
def timed(batches: list[Batch]) -> Iterator[Batch]:
    """Time the block as one batch, with the reference work timed just before and just after it."""
    batch = Batch()
    before = reference_ms()
    started, cpu_started = time.perf_counter(), time.process_time()
    yield batch
    batch.seconds = time.perf_counter() - started
    batch.cpu_seconds = time.process_time() - cpu_started
    batch.reference_ms = (before + reference_ms()) / 2
    batches.append(batch)


def batch_sizes(spec: dict[str, Any]) -> Iterator[int]:
    """The timed chats split into ``batches`` nearly equal batches, or paced by ``interleaved.py``.

    Paced (``pace_fd`` in the spec): say ``ready`` on that file descriptor, then run one batch of
    ``batch_chats`` chats for each ``go`` line read from stdin, answering ``done`` after each, until ``stop``.
    """
    if spec.get("pace_fd") is None:
        chats, count = spec["chats"], min(spec.get("batches", 10), spec["chats"])
        yield from (chats // count + (1 if index < chats % count else 0) for index in range(count))
        return
    with open(spec["pace_fd"], "w", buffering=1, encoding="ascii") as replies:
        replies.write("ready\n")
        for command in sys.stdin:
            if command.strip() != "go":
                return
            yield spec["batch_chats"]  # the caller times the batch before asking for the next size
            replies.write("done\n")


def timing(batches: list[Batch], servers_cpu_seconds: float = 0.0) -> dict[str, Any]:
    """Per-unit cost: the median over the batches and the overall mean, with each batch's reference time.

    ``cpu_us_per_turn`` is the CPU time of this process during the batches plus that of the servers it
    talks to (``servers_cpu_seconds``, over the whole timed stretch: they are idle between batches).
    """
    seconds = sum(batch.seconds for batch in batches)
    units = sum(batch.units for batch in batches)
    cpu = sum(batch.cpu_seconds for batch in batches) + servers_cpu_seconds
    per_unit = [batch.seconds / batch.units * 1e6 for batch in batches]
    return {
        "turns": units,
        "seconds": seconds,
        "us_per_turn": statistics.median(per_unit),
        "us_per_turn_mean": seconds / units * 1e6,
        "cpu_us_per_turn": cpu / units * 1e6,
        "batches_us": per_unit,
        "batches_reference_ms": [batch.reference_ms for batch in batches],
    }


def run_a2a(spec: dict[str, Any], telemetry: Telemetry, model: Started) -> dict[str, Any]:
    """W3: ``user_proxy`` (reply function) chatting with an ``A2aRemoteAgent`` served in another process."""
    from autogen import ConversableAgent
    from autogen.a2a import A2aRemoteAgent

    rounds = spec["rounds"]
    with tempfile.TemporaryDirectory() as scratch:
        server_out = Path(scratch) / "server.json"
        command = [sys.executable, str(A2A_SERVER), "--config", spec["config"]]
        command += ["--model-url", model.url, "--out", str(server_out)]
        with background(command, "the A2A server") as server:
            servers = [model.pid, server.pid]
            user_proxy = ConversableAgent("user_proxy", llm_config=False, human_input_mode="NEVER")
            user_proxy.register_reply([ConversableAgent, None], canned_reply, position=0)
            remote = A2aRemoteAgent(server.url, name="remote_agent")
            telemetry.instrument_agents([user_proxy, remote])

            async def chat() -> int:
                result = await user_proxy.a_initiate_chat(remote, message=FIRST_MESSAGE, max_turns=rounds, silent=True)
                return (chat_turns(result) + 1) // 2  # the remote agent answers every other turn

            loop = asyncio.new_event_loop()  # one event loop for every chat
            try:
                result = timed_chats(spec, telemetry, lambda: loop.run_until_complete(chat()), servers)
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
        server = json.loads(server_out.read_text()) if server_out.exists() else {}
    result["spans"] = telemetry.spans()
    result["server_spans"] = server.get("spans", 0)
    result["server_peak_rss_kb"] = server.get("peak_rss_kb")
    return result


def task_chat(spec: dict[str, Any]) -> dict[str, Any]:
    """Time one workload under one configuration."""
    telemetry = Telemetry(spec["config"])
    workload = spec["workload"]
    if workload == "W1":
        result = run_local(spec, telemetry, None)
    else:
        with scripted_model() as model:
            result = run_local(spec, telemetry, model) if workload == "W2" else run_a2a(spec, telemetry, model)
    result["spans_per_turn"] = result["spans"] / result["turns"]
    if "server_spans" in result:
        result["spans_per_turn"] = result["spans"] / result["turns"] + result["server_spans"] / result["all_turns"]
    result["dropped"] = telemetry.dropped()
    result["peak_rss_kb"] = peak_rss_kb()
    telemetry.shutdown()
    return result


def task_floor(spec: dict[str, Any]) -> dict[str, Any]:
    """The cost of one bare SDK span with the same provider, processor and exporter."""
    telemetry = Telemetry("floor")
    tracer = telemetry.tracer()
    for _ in range(spec["warmup"]):
        with tracer.start_as_current_span("bare"):
            pass
    telemetry.reset()
    gc.collect()
    warm_reference()
    batches: list[Batch] = []
    for size in batch_sizes({"chats": spec["spans"], "batches": 20}):
        with timed(batches) as batch:
            for _ in range(size):
                with tracer.start_as_current_span("bare"):
                    pass
            batch.units = size
    exported = telemetry.spans()
    dropped = telemetry.dropped()
    telemetry.shutdown()
    return timing(batches) | {"spans": exported, "dropped": dropped, "peak_rss_kb": peak_rss_kb()}


def task_memory(spec: dict[str, Any]) -> dict[str, Any]:
    """RSS (and tracemalloc, when asked) after a W1 warm-up vs after ``turns`` more turns."""
    telemetry = Telemetry(spec["config"])
    alice, bob = local_agents(telemetry)

    def chat() -> int:
        return chat_turns(alice.initiate_chat(bob, message=FIRST_MESSAGE, max_turns=spec["rounds"], silent=True))

    for _ in range(spec["warmup"]):
        chat()
    settle(telemetry)
    if spec.get("tracemalloc"):
        tracemalloc.start(5)
        before_snapshot = tracemalloc.take_snapshot()
    rss_before = current_rss_bytes()
    turns = 0
    while turns < spec["turns"]:
        turns += chat()
    settle(telemetry)
    rss_after = current_rss_bytes()
    result: dict[str, Any] = {
        "turns": turns,
        "rss_before_mb": rss_before / 2**20,
        "rss_after_mb": rss_after / 2**20,
        "rss_growth_mb": (rss_after - rss_before) / 2**20,
    }
    if spec.get("tracemalloc"):
        after_snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
        growth = after_snapshot.compare_to(before_snapshot, "filename")
        result["traced_growth_kb"] = sum(stat.size_diff for stat in growth) / 1024
        ours = [stat for stat in growth if PACKAGE in str(stat.traceback)]
        result["traced_growth_ours_kb"] = sum(stat.size_diff for stat in ours) / 1024
        result["top_growth"] = [
            {"where": str(stat.traceback), "kb": stat.size_diff / 1024, "count": stat.count_diff} for stat in growth[:5]
        ]
    telemetry.shutdown()
    return result


def settle(telemetry: Telemetry) -> None:
    """Flush the spans and collect garbage so that a memory reading sees only what is kept."""
    telemetry.flush()
    time.sleep(0.2)
    gc.collect()


def task_flat(spec: dict[str, Any]) -> dict[str, Any]:
    """Per-turn cost early and late in long W1 conversations: is it flat as the conversation grows?"""
    telemetry = Telemetry(spec["config"], capture_message_content=spec.get("capture"))
    stamps: list[float] = []

    def stamping_reply(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> tuple:
        stamps.append(time.perf_counter())
        return True, "Noted, next item."

    alice, bob = local_agents(telemetry, reply=stamping_reply)
    alice.initiate_chat(bob, message=FIRST_MESSAGE, max_turns=spec["warmup"], silent=True)
    telemetry.reset()
    warm_reference()
    early_turn, late_turn = spec["turns"]
    early: list[float] = []
    late: list[float] = []
    references: list[float] = []
    turns = 0
    for _ in range(spec["conversations"]):
        stamps.clear()
        gc.collect()
        before = reference_ms()
        alice.initiate_chat(bob, message=FIRST_MESSAGE, max_turns=spec["rounds"], silent=True)
        references.append((before + reference_ms()) / 2)
        # duration[n] = time from reply n-1 to reply n (replies numbered from 1)
        duration = [0.0, 0.0] + [(b - a) * 1e6 for a, b in itertools.pairwise(stamps)]
        early.append(around(duration, early_turn))
        late.append(around(duration, late_turn))
        turns += len(stamps)
    spans = telemetry.spans()
    telemetry.shutdown()
    return {
        "early_turn": early_turn,
        "late_turn": late_turn,
        "early_us": statistics.median(early),
        "late_us": statistics.median(late),
        "conversations_early_us": early,
        "conversations_late_us": late,
        "conversations_reference_ms": references,
        "turns_per_conversation": turns // spec["conversations"],
        "spans_per_turn": spans / turns,
        "peak_rss_kb": peak_rss_kb(),
    }


def around(duration: list[float], turn: int) -> float:
    """The median duration of turns ``turn - 4`` .. ``turn + 5``."""
    return statistics.median(duration[turn - 4 : turn + 6])


def start_profile(spec: dict[str, Any]) -> Any:
    """A running profiler when the spec asks for a profile: cProfile, or pyinstrument's sampling profiler."""
    if not spec.get("profile"):
        return None
    if spec.get("profiler") == "pyinstrument":
        from pyinstrument import Profiler

        sampler = Profiler(interval=PYINSTRUMENT_INTERVAL_S)
        sampler.start()
        return sampler
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def stop_profile(profiler: Any, spec: dict[str, Any]) -> None:
    """Stop the profiler and write its result where the spec says (cProfile stats, or pyinstrument's text)."""
    if profiler is None:
        return
    if spec.get("profiler") == "pyinstrument":
        profiler.stop()
        tree = profiler.output_text(unicode=True, processor_options={"filter_threshold": PYINSTRUMENT_HIDE_BELOW})
        flat = profiler.output_text(unicode=True, flat=True)
        Path(spec["profile"]).write_text(f"{tree}\nfunctions by own time:\n{flat}")
        return
    profiler.disable()
    profiler.dump_stats(spec["profile"])


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "chat": task_chat,
    "floor": task_floor,
    "memory": task_memory,
    "flat": task_flat,
}


def main() -> None:
    spec = json.loads(sys.argv[1])
    out = Path(sys.argv[2])
    if spec.get("cpu") is not None:  # the servers this process starts inherit it
        os.sched_setaffinity(0, {spec["cpu"]})
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - AG2 prints every chat's end; the result goes to ``out``
    result = TASKS[spec["task"]](spec)
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
