"""util-genai 1.3's openai instrumentation inside an AG2 1.x turn: the turn's conversation id on its span
(tox env ``v1-genai``: util-genai 1.3b0 and opentelemetry-instrumentation-genai-openai)."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from ag2 import Agent, tool
from ag2.events import ToolCallEvent
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
from opentelemetry.trace import SpanKind

from tests.v1.helpers import is_child, one, scope_of, scripted

pytestmark = pytest.mark.timeout(30)

GENAI_OPENAI_SCOPE = "opentelemetry.instrumentation.genai.openai"


@pytest.fixture
def genai_openai(tracer_provider) -> Iterator[OpenAIInstrumentor]:
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    yield instrumentor
    instrumentor.uninstrument()


async def test_an_llm_call_from_a_tool_carries_the_turns_conversation_id(
    instrument, genai_openai, span_exporter, llm
) -> None:
    instrument()
    client = openai.AsyncOpenAI(base_url=llm.base_url, api_key="test", max_retries=0)

    @tool
    async def summarise(topic: str) -> str:
        """Summarise a topic."""
        reply = await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": topic}])
        return reply.choices[0].message.content or ""

    llm.push("Segfaults are invalid memory accesses.")
    call = ToolCallEvent(name="summarise", arguments='{"topic": "segfaults"}', id="call-1")
    agent = Agent("tech_agent", config=scripted(call, "Run it under gdb."), tools=[summarise])
    await agent.ask("How do I debug a segfault?")

    spans = span_exporter.get_finished_spans()
    turn, tool_span = one(spans, "invoke_agent tech_agent"), one(spans, "execute_tool summarise")
    (from_the_tool,) = [s for s in spans if scope_of(s) == GENAI_OPENAI_SCOPE]
    assert (from_the_tool.name, from_the_tool.kind) == ("chat gpt-4o-mini", SpanKind.CLIENT)
    assert is_child(from_the_tool, tool_span)
    assert from_the_tool.attributes["gen_ai.conversation.id"] == turn.attributes["gen_ai.conversation.id"]
    assert len({s.context.trace_id for s in spans}) == 1
