"""What one span of ours costs, split into the span itself, the SDK's price of its attributes, and our logic.

    python benchmarks/span_cost.py            # instructions per call under valgrind: no timing noise
    python benchmarks/span_cost.py --timed    # µs per call in a tight loop instead (noisy; no valgrind needed)

Two calls, each repeated in a tight loop in a fresh process: an agent turn (``generate_reply`` answered by a
registered reply function) and an LLM call (``OpenAIWrapper.create`` with its client answering a canned
completion at once: no network). Each runs four ways: uninstrumented; inside a bare SDK span; inside the span
ours makes for it, name and attributes alike (those ours sets at the start given at the start, the rest at the
end), made by the SDK alone; and under ours. The attributes are those ours really sets, caught from a call
under ours first. The turn is outside any conversation, so it carries no conversation id.

Under valgrind each way runs twice, with none and with ``--calls`` calls after the warm-up; the difference over
the calls is one call's instructions, start-up cancelling out. A change to the hot path shows here in a
minute, to within a few thousand instructions; what it is worth in time the workloads say (``run.py``,
``interleaved.py``).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from instructions import counted
from run import stderr_tail, worker_env

CALLS = ("turn", "llm")
WAYS = ("uninstrumented", "bare", "attributed", "ours")
WARMUP = 300
HERE = Path(__file__).resolve().parent


def _completion() -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Noted."}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14},
        }
    )


def make_call(call: str) -> Callable[[], Any]:
    """One agent turn, or one LLM call answered at once, ready to repeat."""
    from autogen import ConversableAgent, OpenAIWrapper

    if call == "turn":
        asker, answerer = (ConversableAgent(name, llm_config=False, human_input_mode="NEVER") for name in "ab")
        answerer.register_reply([ConversableAgent, None], lambda *args, **kwargs: (True, "Noted."), position=0)
        messages = [{"role": "user", "content": "Next item?"}]
        return lambda: answerer.generate_reply(messages=messages, sender=asker)
    entry = {"api_type": "openai", "model": "gpt-4o-mini", "api_key": "x", "base_url": "http://127.0.0.1:9/v1"}
    wrapper = OpenAIWrapper(config_list=[entry], cache_seed=None)
    completion = _completion()
    wrapper._clients[0].create = lambda params: completion  # the model answers at once
    messages = [{"role": "user", "content": "Next item?"}]
    return lambda: wrapper.create(messages=messages)


def _caught() -> Any:
    """A span processor keeping the name of the last span and its attributes at its start and at its end."""
    from opentelemetry.sdk.trace import SpanProcessor

    class Caught(SpanProcessor):
        def __init__(self) -> None:
            self.name = ""
            self.start: dict[str, Any] = {}
            self.end: dict[str, Any] = {}

        def on_start(self, span: Any, parent_context: Any = None) -> None:
            self.start = dict(span.attributes or {})

        def on_end(self, span: Any) -> None:
            self.name, self.end = span.name, dict(span.attributes or {})

    return Caught()


def ours_span(call: Callable[[], Any]) -> Any:
    """The name and attributes of the span ours makes for one call."""
    from opentelemetry.sdk.trace import TracerProvider

    from opentelemetry_instrumentation_ag2 import AG2Instrumentor

    caught = _caught()
    provider = TracerProvider()
    provider.add_span_processor(caught)
    AG2Instrumentor().instrument(tracer_provider=provider)
    call()
    AG2Instrumentor().uninstrument()
    return caught


def prepared(call_name: str, way: str) -> Callable[[], Any]:
    """The call, made the given way, with a batch processor and a discarding exporter as in the workloads."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from sink import DiscardingExporter

    call = make_call(call_name)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DiscardingExporter()))
    tracer = provider.get_tracer("benchmarks.span_cost")
    if way == "ours":
        from opentelemetry_instrumentation_ag2 import AG2Instrumentor

        AG2Instrumentor().instrument(tracer_provider=provider)
        return call
    if way == "bare":

        def bare() -> None:
            with tracer.start_as_current_span("bare"):
                call()

        return bare
    if way == "attributed":
        span = ours_span(call)
        later = {key: value for key, value in span.end.items() if span.start.get(key) != value}

        def attributed() -> None:
            with tracer.start_as_current_span(span.name, attributes=dict(span.start)) as current:
                call()
                if later:
                    current.set_attributes(later)

        return attributed
    return call


def worker(call_name: str, way: str, calls: int, timed: bool) -> None:
    """Run the warm-up, then ``calls`` calls; with ``timed``, print the median µs per call of seven rounds."""
    call = prepared(call_name, way)
    for _ in range(WARMUP):
        call()
    if not timed:
        for _ in range(calls):
            call()
        return
    rounds = []
    for _ in range(7):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        rounds.append((time.perf_counter() - started) / calls * 1e6)
    print(statistics.median(rounds))


def run_worker(call: str, way: str, calls: int, timed: bool) -> float:
    """One call's instructions (under valgrind) or µs (timed) the given way, from fresh processes."""
    command = [sys.executable, __file__, "--worker", call, way, "--calls"]
    if not timed:
        return (counted([*command, str(calls)], f"{call} {way}") - counted([*command, "0"], f"{call} {way}")) / calls
    done = subprocess.run(
        [*command, str(calls), "--timed"], cwd=HERE, env=worker_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{call} {way}: exit code {done.returncode}: {stderr_tail(done.stderr)}")
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timed", action="store_true", help="µs per call in a tight loop instead of instructions")
    parser.add_argument("--calls", type=int, default=None, help="calls per measurement (default 1000, timed 10000)")
    parser.add_argument("--worker", nargs=2, metavar=("CALL", "WAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    calls = args.calls if args.calls is not None else (10000 if args.timed else 1000)
    if args.worker:
        worker(*args.worker, calls, args.timed)
        return
    if not args.timed and shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (e.g. apt-get install valgrind); or use --timed")
    unit = "µs" if args.timed else "instructions"
    print(f"| call | {' | '.join(WAYS)} | span | its attributes | our logic |")
    print("|---|" + "---|" * (len(WAYS) + 3))
    jobs = [(call, way) for call in CALLS for way in WAYS]
    with ThreadPoolExecutor(1 if args.timed else 2) as pool:  # timings want the machine to themselves
        futures = {job: pool.submit(run_worker, *job, calls, args.timed) for job in jobs}
        cost = {job: future.result() for job, future in futures.items()}
    for call in CALLS:
        span, attributes, logic = (
            cost[call, "bare"] - cost[call, "uninstrumented"],
            cost[call, "attributed"] - cost[call, "bare"],
            cost[call, "ours"] - cost[call, "attributed"],
        )
        shown = [cost[call, way] for way in WAYS] + [span, attributes, logic]
        cells = [f"{value:,.2f}" if args.timed else f"{value / 1e3:,.1f}k" for value in shown]
        print(f"| {call} ({unit}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
