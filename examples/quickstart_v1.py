"""A first AG2 1.x app to trace: an agent with a tool, and no tracing code.

    OTEL_SERVICE_NAME=weather-app opentelemetry-instrument python examples/quickstart_v1.py

The model is OpenAI's gpt-4o-mini, reached as the ``openai`` package reaches it: ``OPENAI_API_KEY``, and
``OPENAI_BASE_URL`` for another server (``bash examples/demo.sh --serve`` runs a key-free stand-in).
"""

from __future__ import annotations

import asyncio

from ag2 import Agent, tool
from ag2.config import OpenAIConfig


@tool
def get_weather(city: str) -> str:
    """Today's weather in a city."""
    return f"Sunny, 21 °C in {city}."


async def main() -> None:
    agent = Agent(
        "assistant", "Answer with the tools you have.", config=OpenAIConfig(model="gpt-4o-mini"), tools=[get_weather]
    )
    reply = await agent.ask("What is the weather in Paris?")
    print(reply.body)


if __name__ == "__main__":
    asyncio.run(main())
