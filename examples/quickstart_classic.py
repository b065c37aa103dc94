"""A first AG2 classic app to trace: an assistant with a tool, and no tracing code.

    OTEL_SERVICE_NAME=weather-app opentelemetry-instrument python examples/quickstart_classic.py

The model is OpenAI's gpt-4o-mini, reached as the ``openai`` package reaches it: ``OPENAI_API_KEY``, and
``OPENAI_BASE_URL`` for another server (``bash examples/demo.sh --serve`` runs a key-free stand-in).
"""

from __future__ import annotations

from autogen import AssistantAgent, LLMConfig, UserProxyAgent, register_function


def get_weather(city: str) -> str:
    """Today's weather in a city."""
    return f"Sunny, 21 °C in {city}."


def main() -> None:
    llm_config = LLMConfig({"api_type": "openai", "model": "gpt-4o-mini"})
    assistant = AssistantAgent(
        "assistant", system_message="Answer with the tools you have; say TERMINATE when done.", llm_config=llm_config
    )
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    register_function(get_weather, caller=assistant, executor=user, description="Today's weather in a city.")
    result = user.initiate_chat(assistant, message="What is the weather in Paris?", max_turns=2)
    print(result.summary)


if __name__ == "__main__":
    main()
