"""The hub process of the two-process network test: a plain AG2 1.x app with no tracing code.

It serves its hub over WebSocket on 127.0.0.1 (``READY <url>``), waits for ``bob`` to register from another
process, has its local agent ``alice`` consult him, prints ``ANSWER <text>``, and exits when its stdin closes.
Run as ``python -m tests.v1.network_hub_app`` (under ``opentelemetry-instrument``).
"""

from __future__ import annotations

import asyncio
import sys

from ag2 import Agent
from ag2.knowledge import MemoryKnowledgeStore
from ag2.network import BaseHubListener, Hub, HubClient, LocalLink
from ag2.network.transport import serve_ws

from tests.v1.network_models import TakeTurns

REMOTE_AGENT = "bob"


class Registered(BaseHubListener):
    """Sets an event once the named agent has registered with the hub."""

    def __init__(self, hub: Hub, name: str) -> None:
        self.hub, self.name, self.event = hub, name, asyncio.Event()

    async def on_agent_event(self, agent_id: str, kind: str, payload: dict) -> None:
        if kind == "registered" and self.hub.name_for(agent_id, default=None) == self.name:
            self.event.set()


async def main() -> None:
    hub = await Hub.open(MemoryKnowledgeStore(), expectation_sweep_interval=0)
    registered = Registered(hub, REMOTE_AGENT)
    hub.register_listener(registered)
    async with serve_ws(hub, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"READY ws://127.0.0.1:{port}", flush=True)
        await asyncio.wait_for(registered.event.wait(), 60)
        client = HubClient(LocalLink(hub))
        alice = await client.register(Agent("alice", "Ask bob.", config=TakeTurns()))
        channel = await alice.open(type="consulting", target=REMOTE_AGENT)
        await channel.send("What is the answer?")
        answer = await alice.wait_for_channel_event(
            channel_id=channel.channel_id, predicate=lambda envelope: envelope.sender_id != alice.agent_id, timeout=60
        )
        print("ANSWER", answer.event_data.get("text"), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the test closes stdin
        await client.close()
    await hub.close()


if __name__ == "__main__":
    asyncio.run(main())
