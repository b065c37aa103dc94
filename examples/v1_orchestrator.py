"""The seed's orchestrator on AG2 1.x: a local agent that delegates to two remote A2A agents, used as tools.

No tracing code: run it under ``opentelemetry-instrument`` (in an environment with ``ag2>=1``) with the two agent
servers running (``v1_agent_server.py``, or a classic ``server.py --protocol-version 1.0``), e.g.

    OTEL_SERVICE_NAME=orchestrator opentelemetry-instrument python examples/v1_orchestrator.py \\
        --tech http://127.0.0.1:18123/ --research http://127.0.0.1:18124/
"""

from __future__ import annotations

import asyncio

from ag2 import Agent
from ag2.a2a import A2AConfig
from remote_agents import orchestrator_arguments
from v1_model import model_config

QUESTION = "My API is returning 500 errors intermittently. Help me investigate."
SCRIPT = [  # the scripted model's answers: ask tech_agent, then research_agent, then sum up
    {"tool_calls": [{"name": "ask_tech_agent", "arguments": {"objective": QUESTION}}], "content": None},
    {"tool_calls": [{"name": "ask_research_agent", "arguments": {"objective": QUESTION}}], "content": None},
    "Start with a backtrace and the error logs, then check the connection pool sizes.",
]


async def main(tech_url: str, research_url: str) -> None:
    with model_config(SCRIPT) as config:
        tech_agent = Agent("tech_agent", config=A2AConfig(card_url=tech_url))
        research_agent = Agent("research_agent", config=A2AConfig(card_url=research_url))
        orchestrator = Agent(
            "orchestrator",
            "You triage issues. Ask tech_agent about technical problems and research_agent about what is known.",
            config=config,
            tools=[
                tech_agent.as_tool(name="ask_tech_agent", description="Ask the remote tech agent."),
                research_agent.as_tool(name="ask_research_agent", description="Ask the remote research agent."),
            ],
        )
        reply = await orchestrator.ask(QUESTION)
        print(f"orchestrator: {reply.body}", flush=True)


if __name__ == "__main__":
    options = orchestrator_arguments(__doc__).parse_args()
    asyncio.run(main(options.tech, options.research))
