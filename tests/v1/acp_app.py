"""Plain AG2 1.x ACP processes with no tracing code, for runs under ``opentelemetry-instrument``.

* ``python -m tests.v1.acp_app serve``: ``coder`` served as an ACP agent over this process's stdio (as editors
  launch one); it calls its ``read_notes`` tool, then answers ``All done.``
* ``python -m tests.v1.acp_app ask``: the ACP client side in AG2, an ``editor`` agent whose model is that ACP
  agent (``ACPConfig``), launched as a subprocess of this one under ``opentelemetry-instrument`` with this
  process's ``OTEL_*`` settings and service ``coder-service``; prints ``REPLY: ...``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys

from ag2 import Agent, tool
from ag2.events import ToolCallEvent

from tests.v1.helpers import scripted

SERVED_SERVICE = "coder-service"


@tool
def read_notes(topic: str) -> str:
    """The notes on a topic."""
    return f"Notes on {topic}: none."


def coder() -> Agent:
    """The served agent."""
    model = scripted(ToolCallEvent(name="read_notes", arguments='{"topic": "tests"}', id="c-1"), "All done.")
    return Agent("coder", "You write code.", config=model, tools=[read_notes])


async def serve() -> None:
    from ag2.acp import ACPAgent

    await ACPAgent(coder()).run_stdio()


def served_command() -> list[str]:
    """This module's ``serve``, under ``opentelemetry-instrument``."""
    launcher = shutil.which("opentelemetry-instrument", path=os.path.dirname(sys.executable))
    assert launcher, "opentelemetry-instrument is installed beside this Python"
    return [launcher, sys.executable, "-m", "tests.v1.acp_app", "serve"]


async def ask() -> None:
    from ag2.acp import ACPConfig

    # ACP launches agents with a trimmed environment: hand on the telemetry settings and the import path
    settings = {key: value for key, value in os.environ.items() if key.startswith("OTEL_")}
    env = settings | {"OTEL_SERVICE_NAME": SERVED_SERVICE, "PYTHONPATH": os.getcwd(), "PYTHONUNBUFFERED": "1"}
    config = ACPConfig(served_command(), env=env, permission_policy="auto", expose_tools=False)
    try:
        reply = await Agent("editor", "You delegate to the coding agent.", config=config).ask("Write the tests.")
    finally:
        await config.aclose()
    print("REPLY:", reply.body, flush=True)


if __name__ == "__main__":
    asyncio.run(serve() if sys.argv[1] == "serve" else ask())
