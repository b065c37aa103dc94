"""The seed's client: user_proxy asks the remote tech_agent, with no tracing code.

    OTEL_SERVICE_NAME=client-service opentelemetry-instrument python examples/client.py http://127.0.0.1:18123/

(AG2's ``A2aRemoteAgent`` is async-only, so this uses ``a_run`` where the seed wrote ``run``.)
"""

from __future__ import annotations

import asyncio
import sys

from autogen import ConversableAgent
from autogen.a2a import A2aRemoteAgent

QUESTION = "My Python app crashes with a segfault on startup. How do I debug this?"


async def main(url: str) -> None:
    user_proxy = ConversableAgent(name="user_proxy", human_input_mode="NEVER", max_consecutive_auto_reply=3)
    tech_agent = A2aRemoteAgent(url, name="tech_agent")
    result = await user_proxy.a_run(tech_agent, message=QUESTION, max_turns=3)
    await result.process()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18123/"))
