"""A plain AG2 1.x A2A app with no tracing code, for runs under ``opentelemetry-instrument``.

``python -m tests.v1.a2a_app serve`` serves ``tech_agent`` over A2A JSON-RPC on 127.0.0.1 (an ephemeral port)
and prints ``READY <card url>``; ``python -m tests.v1.a2a_app ask <card url>`` runs a local ``triage`` agent
whose tool asks that remote agent twice (a question and a follow-up) and prints ``REPLY: ...``.
"""

from __future__ import annotations

import asyncio
import socket
import sys

from ag2 import Agent, tool
from ag2.events import ToolCallEvent

from tests.v1.helpers import scripted


def serve() -> None:
    import uvicorn
    from ag2.a2a import A2AServer

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    agent = Agent("tech_agent", "You solve technical problems.", config=scripted("Run it under gdb."))
    app = A2AServer(agent).build_jsonrpc(url=url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    print("READY", url, flush=True)
    server.run(sockets=[sock])


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
        serve()
    else:
        asyncio.run(ask(sys.argv[2]))
