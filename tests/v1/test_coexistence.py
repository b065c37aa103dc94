"""AG2's own tracing together with ours: one span per operation, whatever the order, carrying what either gives;
one trace per run."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from ag2 import Agent, tool
from ag2.events import ModelMessage, ModelResponse, ToolCallEvent, Usage
from ag2.middleware import BaseMiddleware, Middleware, TelemetryMiddleware
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from tests.support.fixtures import InstrumentAG2
from tests.v1.helpers import AG2_SCOPE, OUR_SCOPE, FailingConfig, is_child, one, scope_of, scripted
from tests.v1.network_models import TakeTurns
from tests.v1.network_support import counts, envelopes, local_hub, settled

pytestmark = pytest.mark.timeout(30)

OPERATIONS = ("invoke_agent", "chat", "execute_tool")


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class Passthrough(BaseMiddleware):
    """A user middleware that makes no spans of its own."""

    async def on_llm_call(self, call_next: Any, events: Any, context: Any) -> Any:
        return await call_next(events, context)


def operations(spans: tuple[ReadableSpan, ...]) -> Counter[tuple[str, str | None]]:
    return Counter(
        (str(s.attributes["gen_ai.operation.name"]), scope_of(s))
        for s in spans
        if s.attributes.get("gen_ai.operation.name") in OPERATIONS
    )


def config() -> Any:
    return scripted(ToolCallEvent(name="add", arguments='{"a": 1, "b": 1}', id="t-1"), "2")


async def test_ag2_middleware_on_an_agent_built_before_instrument(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter, tracer_provider: TracerProvider
) -> None:
    own = TelemetryMiddleware(tracer_provider=tracer_provider, agent_name="calc", capture_content=False)
    agent = Agent("calc", config=config(), tools=[add], middleware=[own])
    instrument()

    assert (await agent.ask("1+1")).body == "2"

    assert operations(span_exporter.get_finished_spans()) == {
        ("invoke_agent", AG2_SCOPE): 1,
        ("chat", AG2_SCOPE): 2,
        ("execute_tool", AG2_SCOPE): 1,
    }


async def test_ag2_middleware_per_call_with_another_middleware_after_it(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter, tracer_provider: TracerProvider
) -> None:
    instrument()
    agent = Agent("calc", config=config(), tools=[add], middleware=[Middleware(Passthrough)])
    own = TelemetryMiddleware(tracer_provider=tracer_provider, agent_name="calc", capture_content=False)

    assert (await agent.ask("1+1", middleware=[own, Middleware(Passthrough)])).body == "2"

    assert operations(span_exporter.get_finished_spans()) == {
        ("invoke_agent", AG2_SCOPE): 1,
        ("chat", AG2_SCOPE): 2,
        ("execute_tool", AG2_SCOPE): 1,
    }


async def test_an_agent_without_ag2_middleware_is_ours_beneath_one_with_it(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter, tracer_provider: TracerProvider
) -> None:
    instrument()
    helper = Agent("helper", config=scripted("done"))
    own = TelemetryMiddleware(tracer_provider=tracer_provider, agent_name="lead", capture_content=False)
    lead = Agent(
        "lead",
        config=scripted(ToolCallEvent(name="task_helper", arguments='{"objective": "x"}', id="d-1"), "ok"),
        tools=[helper.as_tool(description="Helps.")],
        middleware=[own],
    )

    assert (await lead.ask("go")).body == "ok"

    spans = span_exporter.get_finished_spans()
    assert operations(spans) == {
        ("invoke_agent", AG2_SCOPE): 1,
        ("chat", AG2_SCOPE): 2,
        ("execute_tool", AG2_SCOPE): 1,
        ("invoke_agent", OUR_SCOPE): 1,
        ("chat", OUR_SCOPE): 1,
    }
    helper_turn = one(spans, "invoke_agent helper")
    assert scope_of(helper_turn) == OUR_SCOPE
    assert is_child(helper_turn, one(spans, "execute_tool task_helper"))


@tool
def divide(a: int, b: int) -> float:
    """Divide a by b."""
    return a / b


def only(spans: tuple[ReadableSpan, ...], operation: str) -> ReadableSpan:
    """The one span of this ``gen_ai.operation.name`` (AG2 names a chat by the model it was told, if any)."""
    found = [span for span in spans if span.attributes.get("gen_ai.operation.name") == operation]
    assert len(found) == 1, [span.name for span in spans]
    return found[0]


def exception_events(span: ReadableSpan) -> list[str]:
    return [str(event.attributes["exception.type"]) for event in span.events if event.name == "exception"]


async def test_ag2_middleware_spans_carry_what_ours_adds(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter, tracer_provider: TracerProvider
) -> None:
    instrument()
    own = TelemetryMiddleware(tracer_provider=tracer_provider, agent_name="calc", capture_content=False)
    answer = ModelResponse(ModelMessage("Cannot."), usage=Usage(prompt_tokens=12, completion_tokens=3))
    agent = Agent(
        "calc",
        config=scripted(ToolCallEvent(name="divide", arguments='{"a": 1, "b": 0}', id="t-1"), answer),
        tools=[divide],
        middleware=[own],
    )

    reply = await agent.ask("1/0")

    assert reply.body == "Cannot."
    spans = span_exporter.get_finished_spans()
    assert operations(spans) == {("invoke_agent", AG2_SCOPE): 1, ("chat", AG2_SCOPE): 2, ("execute_tool", AG2_SCOPE): 1}
    assert len({span.context.trace_id for span in spans}) == 1
    turn, tool_span = one(spans, "invoke_agent calc"), one(spans, "execute_tool divide")
    chats = [span for span in spans if span.attributes.get("gen_ai.operation.name") == "chat"]
    assert all(is_child(span, turn) for span in (tool_span, *chats))
    assert {span.attributes.get("gen_ai.conversation.id") for span in (turn, tool_span, *chats)} == {
        str(reply.context.stream.id)
    }
    assert tool_span.status.status_code is StatusCode.ERROR
    assert tool_span.attributes["error.type"] == "ZeroDivisionError"
    assert exception_events(tool_span) == ["ZeroDivisionError"]
    assert tool_span.attributes["gen_ai.tool.description"] == "Divide a by b."
    assert (turn.attributes["gen_ai.usage.input_tokens"], turn.attributes["gen_ai.usage.output_tokens"]) == (12, 3)
    assert {chat.attributes["gen_ai.agent.name"] for chat in chats} == {"calc"}


async def test_ag2_middleware_spans_of_a_failed_llm_call_carry_its_error_type(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter, tracer_provider: TracerProvider
) -> None:
    instrument()
    own = TelemetryMiddleware(tracer_provider=tracer_provider, agent_name="calc", capture_content=False)
    agent = Agent("calc", config=FailingConfig(ConnectionError("provider down")), middleware=[own])

    with pytest.raises(ConnectionError, match="provider down"):
        await agent.ask("1+1")

    spans = span_exporter.get_finished_spans()
    assert operations(spans) == {("invoke_agent", AG2_SCOPE): 1, ("chat", AG2_SCOPE): 1}
    turn, chat = one(spans, "invoke_agent calc"), only(spans, "chat")
    assert is_child(chat, turn)
    for span in (turn, chat):
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes["error.type"] == "ConnectionError"
        assert set(exception_events(span)) == {"ConnectionError"}


def participant(name: str, tracer_provider: TracerProvider, *turns: object) -> Agent:
    own = TelemetryMiddleware(tracer_provider=tracer_provider, agent_name=name, capture_content=False)
    return Agent(name, f"You are {name}.", config=TakeTurns(*turns), middleware=[own])


async def test_a_hub_and_agents_traced_by_ag2_too_make_one_trace_per_run(
    network_instrumented: AG2Instrumentor, span_exporter: InMemorySpanExporter, tracer_provider: TracerProvider
) -> None:
    async with local_hub(tracer_provider=tracer_provider) as (_, client):
        alice = await client.register(participant("alice", tracer_provider))
        await client.register(participant("bob", tracer_provider, "Forty-two.", "Seven."))
        runs = []
        for question in ("What is the answer?", "And the other one?"):
            channel = await alice.open(type="consulting", target="bob")
            await channel.send(question)
            runs.append(await settled(span_exporter, counts(2, 1)))
            span_exporter.clear()

    for spans in runs:
        question, reply = envelopes(spans)
        turn, chat = one(spans, "invoke_agent bob"), only(spans, "chat")
        assert len({span.context.trace_id for span in spans}) == 1, "one trace per run"
        assert [span for span in spans if span.parent is None] == [question]
        assert is_child(turn, question) and is_child(chat, turn) and is_child(reply, question)
        assert operations(spans) == {("invoke_agent", AG2_SCOPE): 1, ("chat", AG2_SCOPE): 1}
        assert turn.attributes["gen_ai.conversation.id"] == chat.attributes["gen_ai.conversation.id"]
    assert runs[0][0].context.trace_id != runs[1][0].context.trace_id
