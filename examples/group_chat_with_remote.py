"""The seed's orchestrator: a group chat mixing a local triage agent with two remote A2A agents.

No tracing code: run it under ``opentelemetry-instrument`` with the two servers running, e.g.

    OTEL_SERVICE_NAME=orchestrator opentelemetry-instrument python examples/group_chat_with_remote.py \\
        --tech http://127.0.0.1:18123/ --research http://127.0.0.1:18124/
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from autogen import ConversableAgent
from autogen.a2a import A2aRemoteAgent
from autogen.agentchat import a_run_group_chat
from autogen.agentchat.group.patterns import AutoPattern
from model import model_config
from remote_agents import orchestrator_arguments

QUESTION = "My API is returning 500 errors intermittently. Help me investigate."
SELECTIONS = ["tech_agent", "research_agent", "triage_agent"]
TRIAGE_REPLIES = ["A technical problem: tech_agent first, then research_agent.", "TERMINATE"]


def scripted_orchestration() -> Any:
    """The scripted model's answers: speaker names for selections, triage replies otherwise."""
    selections, triage = iter(SELECTIONS), iter(TRIAGE_REPLIES)

    def reply(request: dict[str, Any]) -> str:
        if "next role" in json.dumps(request.get("messages", [])):
            return next(selections, "triage_agent")
        return next(triage, "TERMINATE")

    return reply


async def main(tech_url: str, research_url: str) -> None:
    with model_config(default=scripted_orchestration()) as llm_config:
        triage_agent = ConversableAgent(
            name="triage_agent",
            system_message="You triage issues. Route technical problems to tech_agent and research "
            "questions to research_agent.",
            llm_config=llm_config,
            human_input_mode="NEVER",
        )
        tech_agent = A2aRemoteAgent(tech_url, name="tech_agent")
        research_agent = A2aRemoteAgent(research_url, name="research_agent")
        user = ConversableAgent(name="user", human_input_mode="NEVER", llm_config=False)
        pattern = AutoPattern(
            initial_agent=triage_agent,
            agents=[triage_agent, tech_agent, research_agent],
            user_agent=user,
            group_manager_args={"llm_config": llm_config},
        )
        result = await a_run_group_chat(pattern=pattern, messages=QUESTION, max_rounds=6)
        await result.process()


if __name__ == "__main__":
    options = orchestrator_arguments(__doc__).parse_args()
    asyncio.run(main(options.tech, options.research))
