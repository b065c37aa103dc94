"""A plain MCP server (the mcp SDK's ``MCPServer``, ``FastMCP`` before 2.0) with one tool and no tracing code.

``python -m tests.v1.mcp_server_app http`` serves streamable HTTP on 127.0.0.1 (an ephemeral port), prints
``READY <url>`` and exits cleanly, so that its last spans are exported, when its stdin closes;
``python -m tests.v1.mcp_server_app stdio`` speaks MCP over its own stdin and stdout (the client launches it).
"""

from __future__ import annotations

import sys

from tests.support.asgi_servers import serve_until_stdin_closes

try:
    from mcp.server.mcpserver import MCPServer
except ImportError:  # mcp < 2 (ag2 1.0)
    from mcp.server.fastmcp import FastMCP as MCPServer

WEATHER_DESCRIPTION = "The current weather in a city, from the weather service."

server = MCPServer("weather-service")


@server.tool(description=WEATHER_DESCRIPTION)
def get_weather(city: str) -> str:
    return f"Sunny in {city}."


def serve_http() -> None:
    """Streamable HTTP on an ephemeral port of 127.0.0.1 until stdin closes (the app's lifespan runs MCP)."""
    serve_until_stdin_closes(server.streamable_http_app(), "mcp")


if __name__ == "__main__":
    if sys.argv[1] == "http":
        serve_http()
    else:
        server.run("stdio")
