"""A plain AG2 1.x app whose agent uses an MCP server's tools through ``MCPToolkit``; no tracing code.

``python -m tests.v1.mcp_app http <url>`` reaches the MCP server at ``url`` over streamable HTTP;
``python -m tests.v1.mcp_app stdio <service>`` launches ``tests.v1.mcp_server_app`` over stdio, itself under
``opentelemetry-instrument`` with this environment and ``service`` as its service name. Either way the agent
is asked once (its model, scripted, calls ``get_weather``) and the app prints ``REPLY: ...``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

from ag2 import Agent
from ag2.events import ToolCallEvent
from ag2.tools import MCPServerConfig, MCPStdioServerConfig, MCPToolkit

from tests.v1.helpers import scripted

ROOT = Path(__file__).resolve().parents[2]


def stdio_server(service: str) -> MCPStdioServerConfig:
    """``tests.v1.mcp_server_app`` over stdio, under ``opentelemetry-instrument`` as ``service``."""
    launcher = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
    assert launcher, "opentelemetry-instrument is installed with the test extra"
    return MCPStdioServerConfig(
        command=launcher,
        args=[sys.executable, "-m", "tests.v1.mcp_server_app", "stdio"],
        env={**os.environ, "OTEL_SERVICE_NAME": service},
        cwd=str(ROOT),
    )


async def ask(server: MCPServerConfig | MCPStdioServerConfig) -> None:
    model = scripted(ToolCallEvent(name="get_weather", arguments='{"city": "Paris"}', id="c-1"), "Sunny in Paris.")
    agent = Agent("weather_agent", "You report the weather.", config=model, tools=[MCPToolkit(server)])
    reply = await agent.ask("Weather in Paris?")
    print("REPLY:", reply.body, flush=True)


if __name__ == "__main__":
    transport, where = sys.argv[1], sys.argv[2]
    asyncio.run(ask(MCPServerConfig(server_url=where) if transport == "http" else stdio_server(where)))
