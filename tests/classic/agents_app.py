"""The local half of the seed's ``client.py``, with a scripted model standing in for gpt-4o-mini.

Used in-process by the tests and as a script under ``opentelemetry-instrument``:
``python -m tests.classic.agents_app BASE_URL``.
"""

from __future__ import annotations

import sys
from typing import Any

from autogen import ConversableAgent, GroupChat, GroupChatManager, LLMConfig

QUESTION = "My Python app crashes with a segfault on startup. How do I debug this?"


def llm_config(base_url: str, model: str = "gpt-4o-mini") -> LLMConfig:
    """An OpenAI config pointing at the scripted model."""
    return LLMConfig(
        {"api_type": "openai", "model": model, "api_key": "test", "base_url": base_url, "max_retries": 0},
        cache_seed=None,
    )


def two_agent_group_chat(
    tech: ConversableAgent, research: ConversableAgent, method: str, base_url: str
) -> GroupChatManager:
    """A four-round group chat of the two agents choosing its speakers by ``method`` (AG2's name for one, or
    ``"callable"``: a function alternating between them)."""

    def alternate(last_speaker: Any, groupchat: GroupChat) -> Any:
        return research if last_speaker is tech else tech

    selection_method = alternate if method == "callable" else method
    groupchat = GroupChat([tech, research], messages=[], max_round=4, speaker_selection_method=selection_method)
    return GroupChatManager(groupchat, llm_config=llm_config(base_url))


def build_agents(base_url: str, **tech_agent_options: Any) -> tuple[ConversableAgent, ConversableAgent]:
    """``user_proxy`` (no LLM) and ``tech_agent`` (the scripted model), as in the seed."""
    user_proxy = ConversableAgent(
        name="user_proxy",
        human_input_mode="NEVER",
        max_consecutive_auto_reply=3,
        llm_config=False,
    )
    tech_agent = ConversableAgent(
        name="tech_agent",
        system_message="You solve technical problems. Provide clear, actionable solutions.",
        llm_config=llm_config(base_url),
        human_input_mode="NEVER",
        **tech_agent_options,
    )
    return user_proxy, tech_agent


def main(base_url: str) -> None:
    """Run the seed's chat with ``run()`` + ``process()``."""
    user_proxy, tech_agent = build_agents(base_url)
    result = user_proxy.run(tech_agent, message=QUESTION, max_turns=2)
    result.process()


if __name__ == "__main__":
    main(sys.argv[1])
