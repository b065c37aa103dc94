"""A plain AG2 1.x A2A app with no tracing code, for runs under ``opentelemetry-instrument``.

``python -m tests.v1.a2a_app serve [jsonrpc|rest|grpc]`` serves ``tech_agent`` over that A2A transport on
127.0.0.1 (ephemeral ports) and prints ``READY <card url>`` until it is terminated;
``python -m tests.v1.a2a_app ask <card url>`` runs a local ``triage`` agent
whose tool asks that remote agent twice (a question and a follow-up) and prints ``REPLY: ...``.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading

from ag2 import Agent, tool
from ag2.events import ToolCallEvent

from tests.v1.helpers import scripted


def serve(transport: str) -> None:
    from tests.v1.a2a_support import serve_agent, serve_agent_grpc

    agent = Agent("tech_agent", "You solve technical problems.", config=scripted("Run it under gdb."))
    served = serve_agent_grpc(agent) if transport == "grpc" else serve_agent(agent, transport)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # a clean exit, so the last spans are exported
    with served as url:
        print("READY", url, flush=True)
        stop.wait()


async def ask(url: str) -> None:
    from ag2.a2a import A2AConfig

    @tool
    async def ask_tech_agent(question: str) -> str:
        """Ask the remote tech agent, then follow up."""
        first = await Agent("tech_agent", config=A2AConfig(card_url=url)).ask(question)
        return (await first.ask("And then?")).body

    model = scripted(ToolCallEvent(name="ask_tech_agent", arguments='{"question": "segfault?"}', id="c-1"), "Done.")
    reply = await Agent("triage", "Route technical problems.", config=model, tools=[ask_tech_agent]).ask("Help")
    print("REPLY:", reply.body, flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2] if len(sys.argv) > 2 else "jsonrpc")
    else:
        asyncio.run(ask(sys.argv[2]))
