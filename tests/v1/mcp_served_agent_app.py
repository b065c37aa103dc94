"""A plain AG2 1.x agent served over MCP by ``ag2.mcp.MCPServer``, for runs under ``opentelemetry-instrument``.

No tracing code. ``python -m tests.v1.mcp_served_agent_app`` serves ``weather_agent`` as one MCP tool (``ask``,
taking a ``message``) over streamable HTTP on 127.0.0.1 (an ephemeral port), prints ``READY <url>`` and exits
cleanly, so that its last spans are exported, when its stdin closes. Each call is one turn of the agent: its model
(scripted) calls ``get_weather``, then answers ``Sunny in Paris.``.
"""

from __future__ import annotations

from ag2 import Agent, tool
from ag2.events import ToolCallEvent
from ag2.mcp import MCPServer

from tests.support.asgi_servers import serve_until_stdin_closes
from tests.v1.helpers import scripted

AGENT = "weather_agent"
TOOL = "ask"
ANSWER = "Sunny in Paris."


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}."


def build_server() -> MCPServer:
    """``weather_agent`` as an MCP server; every call a fresh conversation with the same script."""
    model = scripted(ToolCallEvent(name="get_weather", arguments='{"city": "Paris"}', id="c-1"), ANSWER)
    agent = Agent(AGENT, "You report the weather.", config=model, tools=[get_weather])
    return MCPServer(agent, tool_name=TOOL, sessions=False, stream_progress=False)


def main() -> None:
    """Serve until stdin closes (the server is the ASGI app; its lifespan runs the MCP session manager)."""
    serve_until_stdin_closes(build_server(), "mcp")


if __name__ == "__main__":
    main()
