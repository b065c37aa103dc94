"""A plain AG2 1.x app with no tracing code: an agent, a tool, a scripted model.

Run as ``python -m tests.v1.app`` (under ``opentelemetry-instrument`` in the zero-code tests).
"""

from __future__ import annotations

import asyncio

from ag2 import Agent, tool
from ag2.events import ToolCallEvent

from tests.v1.helpers import scripted


@tool
def get_weather(city: str) -> str:
    """Today's weather for a city."""
    return f"Sunny in {city}."


async def main() -> None:
    model = scripted(ToolCallEvent(name="get_weather", arguments='{"city": "Paris"}', id="call-1"), "Sunny.")
    agent = Agent("weather_agent", "Answer with the tool.", config=model, tools=[get_weather])
    reply = await agent.ask("Weather in Paris?")
    print("REPLY:", reply.body)


if __name__ == "__main__":
    asyncio.run(main())
