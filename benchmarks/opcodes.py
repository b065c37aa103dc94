"""Python opcodes per AG2 1.x turn, by concern: where ours' cost beyond another configuration goes.

    python benchmarks/opcodes.py                        # V1-W1 and V1-W4, ours against minimal
    python benchmarks/opcodes.py --only V1-W4 --configs minimal ours --functions 30

Each configuration runs in its own process; after a warm-up, ``sys.settrace`` counts every opcode the
interpreter executes over some turns, by the function executing it. The counts do not depend on the machine's
load or speed (a turn's path is the same every time: ``PYTHONHASHSEED`` is fixed), so two configurations'
difference is exact where timings are not, and it says which of ours' modules it comes from. Opcodes are not
time: C code (pydantic-core, the ``json`` and ``re`` modules, dict and set operations) counts nothing, and
an opcode's cost varies. V1-W1 is one ``Agent.ask`` answered by ``TestConfig``; V1-W4 here is one AG-UI run
served in-process (httpx's ASGI transport rather than uvicorn: the same endpoint, patches and turn) whose
model is the scripted model on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PACKAGE = "opentelemetry_instrumentation_ag2/"
CONCERNS = (
    ("span making", ("spans.py", "encodable.py", "errors.py")),
    ("the turn", ("v1/turns.py", "v1/turn_span.py", "v1/agents.py", "v1/turn_config.py", "v1/own_tracing.py",
                  "v1/middleware.py", "v1/turn_state.py", "usage.py", "ag2_own_tracing.py")),
    ("the model call", ("v1/llm.py", "v1/model_config.py", "model_request.py", "endpoints.py", "genai_interop.py",
                        "v1/a2a_client.py")),
    ("the served request", ("v1/ag_ui.py", "remote/")),
    ("metrics", ("signals.py",)),
    ("events beside the chain", ("v1/off_chain.py",)),
)  # fmt: skip
"""Ours' modules by what they do for a turn (first match wins; the rest of ours is "ours, other")."""
WARMUP, TURNS = 10, 30


def concern(filename: str) -> str:
    """What a function's file is, for the table: one of ours' concerns, or whose code it is."""
    if PACKAGE in filename:
        module = filename.rsplit(PACKAGE, 1)[1]
        return next((name for name, files in CONCERNS if module.startswith(files)), "ours, other")
    if "/opentelemetry/" in filename:
        return "OpenTelemetry SDK and API"
    if filename.startswith(str(HERE)):
        return "the benchmark's own wrapper"
    return "AG2, its libraries and Python's"


def count(workload: str, config: str) -> dict[tuple[str, int, str], float]:
    """Opcodes per turn of one configuration, by function (run in this process: call it in a fresh one)."""
    from configs import Telemetry

    telemetry = Telemetry(config)
    import v1_workloads
    from ag2 import Agent

    counts: collections.Counter[tuple[str, int, str]] = collections.Counter()

    def trace(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes, frame.f_trace_lines = True, False
        code = frame.f_code
        key = (code.co_filename, code.co_firstlineno, code.co_name)

        def each(frame: Any, event: str, arg: Any) -> Any:
            if event == "opcode":
                counts[key] += 1
            return each

        return each

    async def turns(turn: Any) -> None:
        for _ in range(WARMUP):
            await turn()
        sys.settrace(trace)
        try:
            for _ in range(TURNS):
                await turn()
        finally:
            sys.settrace(None)

    if workload == "V1-W1":
        tracing = v1_workloads.own_tracing(telemetry, "assistant")
        agent = Agent("assistant", "Answer briefly.", config=v1_workloads.scripted_config(), middleware=tracing)
        asyncio.run(turns(lambda: agent.ask(v1_workloads.FIRST_MESSAGE)))
    else:
        import httpx
        from workloads import scripted_model

        with scripted_model() as model:
            config = v1_workloads.openai_config(model.url, v1_workloads.shared_http_client())
            tracing = v1_workloads.own_tracing(telemetry, "checklist_agent")
            agent = Agent("checklist_agent", "You answer checklist questions.", config=config, middleware=tracing)
            app = telemetry.served_app(v1_workloads.ag_ui_app(agent, ""), v1_workloads.SERVER_SPANS["ag-ui"])

            async def served() -> None:
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                    await turns(lambda: v1_workloads.post_run(client, "http://127.0.0.1/"))

            asyncio.run(served())
    return {key: value / TURNS for key, value in counts.items()}


def counted(workload: str, config: str) -> dict[tuple[str, int, str], float]:
    """:func:`count` in a fresh process."""
    done = subprocess.run(
        [sys.executable, __file__, "--worker", workload, config],
        cwd=HERE,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return {(file, line, name): value for file, line, name, value in json.loads(done.stdout)}


def report(workload: str, base: str, other: str, functions: int) -> None:
    """The table of ``other``'s opcodes per turn beyond ``base``'s, by concern, and its largest functions."""
    below, above = counted(workload, base), counted(workload, other)
    keys = set(below) | set(above)
    difference = {key: above.get(key, 0.0) - below.get(key, 0.0) for key in keys}
    by_concern: collections.Counter[str] = collections.Counter()
    for key, value in difference.items():
        by_concern[concern(key[0])] += value
    print(f"\n### {workload}: {other} against {base}, Python opcodes per turn\n")
    print(f"{base}: {sum(below.values()):,.0f}; {other}: {sum(above.values()):,.0f}\n")
    print("| concern | opcodes per turn |\n|---|---|")
    for name, value in sorted(by_concern.items(), key=lambda item: -item[1]):
        print(f"| {name} | {value:+,.0f} |")
    print(f"| all | {sum(difference.values()):+,.0f} |")
    if functions:
        print("\n| function | opcodes per turn |\n|---|---|")
        for key in sorted(keys, key=lambda key: -abs(difference[key]))[:functions]:
            file = key[0].rsplit("site-packages/", 1)[-1].rsplit(PACKAGE, 1)[-1]
            print(f"| `{file}:{key[1]} {key[2]}` | {difference[key]:+,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", default=["V1-W1", "V1-W4"], choices=["V1-W1", "V1-W4"])
    parser.add_argument("--configs", nargs=2, default=["minimal", "ours"], metavar=("BASE", "OTHER"))
    parser.add_argument("--functions", type=int, default=15, help="list this many functions by difference")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        counts = count(*arguments.worker)
        json.dump([[*key, value] for key, value in counts.items()], sys.stdout)
        return
    for workload in arguments.only:
        report(workload, *arguments.configs, arguments.functions)


if __name__ == "__main__":
    main()
