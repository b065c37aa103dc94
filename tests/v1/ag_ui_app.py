"""A plain AG2 1.x AG-UI app with no tracing code, for runs under ``opentelemetry-instrument`` (or without).

``python -m tests.v1.ag_ui_app`` serves two agents over AG-UI on 127.0.0.1 (an ephemeral port) and prints
``READY <base url>``; it exits cleanly, so that its last spans are exported, when its stdin closes.

* ``POST /weather``: ``weather_agent`` calls its ``get_weather`` tool, then answers ``Sunny in Paris.``;
* ``POST /broken``: ``broken_agent``'s model fails, so the run ends on ``RUN_ERROR``.

The endpoints are built from ``AGUIStream.build_asgi()`` and mounted the two ways Starlette offers (a
``Route`` and a ``Mount``).
"""

from __future__ import annotations

import sys
from typing import Any

from ag2 import Agent, tool
from ag2.ag_ui import AGUIStream
from ag2.events import ToolCallEvent
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from tests.support.asgi_servers import free_socket, serve_app, url_of
from tests.v1.helpers import scripted


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}."


def build_app() -> Any:
    """The Starlette app serving both agents."""
    weather = Agent(
        "weather_agent",
        "You report the weather.",
        config=scripted(ToolCallEvent(name="get_weather", arguments='{"city": "Paris"}', id="c-1"), "Sunny in Paris."),
        tools=[get_weather],
    )
    broken = Agent("broken_agent", "You fail.", config=scripted(RuntimeError("the model is down")))
    return Starlette(
        routes=[
            Route("/weather", AGUIStream(weather).build_asgi()),
            Mount("/broken", AGUIStream(broken).build_asgi()),
        ]
    )


def main() -> None:
    sock = free_socket()
    with serve_app(build_app(), sock):
        print("READY", url_of(sock), flush=True)
        sys.stdin.read()  # until the test closes it


if __name__ == "__main__":
    main()
