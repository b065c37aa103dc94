"""``invoke_agent`` and ``chat`` spans of AG2 1.x turns, through every way a turn starts."""

from __future__ import annotations

import pytest
from ag2 import Agent
from ag2.events import ModelMessage, ModelRequest, ModelResponse, TextInput, Usage
from opentelemetry import trace
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from tests.support.fixtures import InstrumentAG2
from tests.v1.helpers import OUR_SCOPE, FailingConfig, by_name, is_child, one, scope_of, scripted

pytestmark = pytest.mark.timeout(30)


def answer(text: str, prompt_tokens: int, completion_tokens: int) -> ModelResponse:
    return ModelResponse(
        ModelMessage(text),
        usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
        model="gpt-test-2026",
        provider="openai",
        finish_reason="stop",
    )


async def test_ask_makes_a_turn_span_with_its_llm_call_beneath(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter
) -> None:
    agent = Agent("helper", "Be brief.", config=scripted(answer("Hi!", 12, 3)))  # built before instrument()
    instrument()

    reply = await agent.ask("Hello")

    assert reply.body == "Hi!"
    spans = span_exporter.get_finished_spans()
    assert [s.name for s in spans] == ["chat gpt-test", "invoke_agent helper"]
    turn, chat = one(spans, "invoke_agent helper"), one(spans, "chat gpt-test")
    assert turn.kind is SpanKind.INTERNAL and turn.parent is None
    assert chat.kind is SpanKind.CLIENT and is_child(chat, turn)
    assert scope_of(turn) == scope_of(chat) == OUR_SCOPE
    assert dict(turn.attributes) == {
        "ag2.span.type": "agent",
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "helper",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-test",
        "gen_ai.conversation.id": str(reply.context.stream.id),
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 3,
    }
    assert dict(chat.attributes) == {
        "ag2.span.type": "llm",
        "gen_ai.operation.name": "chat",
        "gen_ai.agent.name": "helper",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-test",
        "gen_ai.response.model": "gpt-test-2026",
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 3,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.conversation.id": str(reply.context.stream.id),
    }
    assert turn.status.status_code is StatusCode.UNSET and chat.status.status_code is StatusCode.UNSET


async def test_continuations_and_runs_share_the_history_conversation_id(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter
) -> None:
    instrument()
    agent = Agent("helper", config=scripted("one", "two", "three"))

    first = await agent.ask("a")
    second = await first.ask("b")
    async with second.run("c") as run:
        third = await run.result()

    assert third.body == "three"
    turns = by_name(span_exporter.get_finished_spans(), "invoke_agent helper")
    assert len(turns) == 3
    assert {t.attributes["gen_ai.conversation.id"] for t in turns} == {str(first.context.stream.id)}

    other = await agent.ask("a new history")  # a fresh ask is a new conversation

    latest = by_name(span_exporter.get_finished_spans(), "invoke_agent helper")[-1]
    assert latest.attributes["gen_ai.conversation.id"] == str(other.context.stream.id) != str(first.context.stream.id)


async def test_agent_run_and_resume_are_turns(instrument: InstrumentAG2, span_exporter: InMemorySpanExporter) -> None:
    instrument()
    agent = Agent("runner", config=scripted("streamed"))

    async with agent.run("go") as run:
        reply = await run.result()
    resumed = await agent.resume(
        ModelRequest([TextInput("earlier")]), ModelRequest([TextInput("again")]), config=scripted("resumed")
    )

    assert (reply.body, resumed.body) == ("streamed", "resumed")
    turns = by_name(span_exporter.get_finished_spans(), "invoke_agent runner")
    assert len(turns) == 2
    assert turns[0].attributes["gen_ai.conversation.id"] != turns[1].attributes["gen_ai.conversation.id"]
    assert all(len([s for s in span_exporter.get_finished_spans() if is_child(s, t)]) == 1 for t in turns)


async def test_a_failing_llm_call_fails_the_turn_and_the_exception_passes_unchanged(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter
) -> None:
    instrument()
    error = ConnectionError("provider down")
    agent = Agent("fragile", config=FailingConfig(error))

    with pytest.raises(ConnectionError) as raised:
        await agent.ask("hello")

    assert raised.value is error
    spans = span_exporter.get_finished_spans()
    turn, chat = one(spans, "invoke_agent fragile"), one(spans, "chat gpt-broken")
    for span in (turn, chat):
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes["error.type"] == "ConnectionError"
        assert [event.name for event in span.events] == ["exception"]
        assert span.events[0].attributes["exception.message"] == "provider down"


async def test_metrics_record_turn_and_llm_durations_and_tokens(
    instrument: InstrumentAG2, metric_reader: InMemoryMetricReader
) -> None:
    instrument()
    agent = Agent("counter", config=scripted(answer("ok", 7, 2)))

    await agent.ask("count")

    points: dict[str, list] = {}
    for resource_metrics in metric_reader.get_metrics_data().resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                points[metric.name] = list(metric.data.data_points)
    (turn,) = points["gen_ai.invoke_agent.duration"]
    assert dict(turn.attributes) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.provider.name": "openai",
        "gen_ai.agent.name": "counter",
        "gen_ai.request.model": "gpt-test",
    }
    (call,) = points["gen_ai.client.operation.duration"]
    assert call.attributes["gen_ai.operation.name"] == "chat" and call.count == 1
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in points["gen_ai.client.token.usage"]}
    assert tokens == {"input": 7, "output": 2}


async def test_a_turn_triggered_by_a_network_envelope_is_its_child(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter, tracer_provider: TracerProvider
) -> None:
    instrument()
    envelope = tracer_provider.get_tracer("hub").start_span("network.envelope conversation.message")
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier, trace.set_span_in_context(envelope))
    agent = Agent("participant", config=scripted("received"))

    # what ag2.network's handler does with the traceparent the hub stamped on the envelope
    await agent.ask("hello", dependencies={"ag2.otel.traceparent": carrier["traceparent"]})
    envelope.end()

    turn = one(span_exporter.get_finished_spans(), "invoke_agent participant")
    assert turn.parent is not None and turn.parent.span_id == envelope.get_span_context().span_id
    assert turn.context.trace_id == envelope.get_span_context().trace_id
    assert agent._middleware == []  # nothing of ours is left on the agent
