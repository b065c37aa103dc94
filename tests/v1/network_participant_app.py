"""The participant process of the two-process network test: a plain AG2 1.x app with no tracing code.

It connects to the hub at the URL given (``HubClient(WsLink(url))``), registers the agent ``bob``, prints
``READY bob``, answers what the hub delivers, and exits when its stdin closes.
Run as ``python -m tests.v1.network_participant_app URL`` (under ``opentelemetry-instrument``).
"""

from __future__ import annotations

import asyncio
import sys

from ag2 import Agent
from ag2.network import HubClient
from ag2.network.transport import WsLink

from tests.v1.network_models import TakeTurns


async def main(url: str) -> None:
    client = HubClient(WsLink(url))
    await client.register(Agent("bob", "Answer briefly.", config=TakeTurns("Forty-two.")))
    print("READY bob", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the test closes stdin
    await client.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
