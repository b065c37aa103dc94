"""util-genai 1.3's openai instrumentation inside an AG2 chat: the chat's conversation id on its spans, and
one span per LLM call (tox env ``classic-genai``: util-genai 1.3b0 and opentelemetry-instrumentation-genai-openai,
openai-v2's successor)."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from autogen import register_function
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
from opentelemetry.trace import SpanKind

from tests.classic.agents_app import QUESTION, build_agents
from tests.classic.conftest import by_name, parent_of

pytestmark = pytest.mark.timeout(60)

GENAI_OPENAI_SCOPE = "opentelemetry.instrumentation.genai.openai"


@pytest.fixture
def genai_openai(instrument, tracer_provider) -> Iterator[OpenAIInstrumentor]:
    """util-genai's openai instrumentation on beside ours, on the same provider."""
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    yield instrumentor
    instrumentor.uninstrument()


def chat_with_a_tool_that_asks_the_model(llm) -> None:
    """``tech_agent`` calls ``summarise``, whose body makes an LLM call of its own with the openai SDK."""
    client = openai.OpenAI(base_url=llm.base_url, api_key="test", max_retries=0)

    def summarise(topic: str) -> str:
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": topic}])
        return reply.choices[0].message.content or ""

    user_proxy, tech_agent = build_agents(llm.base_url)
    register_function(summarise, caller=tech_agent, executor=user_proxy, description="Summarise a topic")
    llm.push(
        {"tool_calls": [{"name": "summarise", "arguments": {"topic": "segfaults"}, "id": "call_1"}]},
        "Segfaults are invalid memory accesses.",
        "Run it under gdb.",
    )
    user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=2)


def test_an_llm_call_from_a_tool_carries_the_chats_conversation_id(genai_openai, span_exporter, llm):
    chat_with_a_tool_that_asks_the_model(llm)
    spans = span_exporter.get_finished_spans()
    (conversation,) = by_name(spans, "conversation user_proxy")
    conversation_id = conversation.attributes["gen_ai.conversation.id"]

    (from_the_tool,) = [s for s in spans if s.instrumentation_scope.name == GENAI_OPENAI_SCOPE]
    assert (from_the_tool.name, from_the_tool.kind) == ("chat gpt-4o-mini", SpanKind.CLIENT)
    assert parent_of(from_the_tool, spans).name == "execute_tool summarise"
    assert from_the_tool.attributes["gen_ai.conversation.id"] == conversation_id
    assert len({s.context.trace_id for s in spans}) == 1


def test_the_agents_own_llm_calls_have_one_span_each_ours(genai_openai, span_exporter, llm):
    chat_with_a_tool_that_asks_the_model(llm)
    spans = span_exporter.get_finished_spans()
    chats = by_name(spans, "chat gpt-4o-mini")
    agent_calls = [s for s in chats if parent_of(s, spans).name == "invoke_agent tech_agent"]
    assert len(agent_calls) == 2 and len(llm.requests) == 3
    assert {s.instrumentation_scope.name for s in agent_calls} == {"opentelemetry_instrumentation_ag2"}
    (conversation,) = by_name(spans, "conversation user_proxy")
    for call in agent_calls:
        assert call.attributes["gen_ai.conversation.id"] == conversation.attributes["gen_ai.conversation.id"]
        assert not [s for s in spans if parent_of(s, spans) is call]  # genai-openai made none beneath ours


def test_without_an_ag2_chat_the_openai_span_has_no_conversation_id(genai_openai, span_exporter, llm):
    llm.push("Hello.")
    openai.OpenAI(base_url=llm.base_url, api_key="test", max_retries=0).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    (span,) = span_exporter.get_finished_spans()
    assert span.instrumentation_scope.name == GENAI_OPENAI_SCOPE
    assert "gen_ai.conversation.id" not in span.attributes
