"""Message content: absent by default, on spans and/or in events when the capture variable asks."""

from __future__ import annotations

import json

import pytest
from ag2 import Agent, tool
from ag2.events import ToolCallEvent
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support.fixtures import InstrumentAG2
from tests.v1.helpers import by_name, one, scripted

pytestmark = pytest.mark.timeout(30)

CONTENT_KEYS = {
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "ag2.human_input.prompt",
    "ag2.human_input.response",
}


@tool
def lookup(city: str) -> str:
    """Look up the weather."""
    return f"sunny in {city}"


async def ask_weather() -> None:
    agent = Agent(
        "forecaster",
        "You forecast.",
        config=scripted(ToolCallEvent(name="lookup", arguments='{"city": "Oslo"}', id="w-1"), "Sunny."),
        tools=[lookup],
    )
    assert (await agent.ask("Weather in Oslo?")).body == "Sunny."


async def test_no_content_by_default(
    instrument: InstrumentAG2,
    span_exporter: InMemorySpanExporter,
    log_exporter: InMemoryLogRecordExporter,
) -> None:
    instrument()

    await ask_weather()

    spans = span_exporter.get_finished_spans()
    assert len(spans) == 4
    assert all(CONTENT_KEYS.isdisjoint(span.attributes) for span in spans)
    assert log_exporter.get_finished_logs() == ()


async def test_span_only_puts_content_on_spans(
    instrument: InstrumentAG2,
    span_exporter: InMemorySpanExporter,
    log_exporter: InMemoryLogRecordExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    instrument()

    await ask_weather()

    spans = span_exporter.get_finished_spans()
    turn = one(spans, "invoke_agent forecaster")
    assert json.loads(turn.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"}]}
    ]
    assert json.loads(turn.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Sunny."}], "finish_reason": "stop"}
    ]
    first_call, second_call = by_name(spans, "chat gpt-test")
    assert json.loads(first_call.attributes["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "You forecast."}
    ]
    assert json.loads(first_call.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "w-1", "name": "lookup", "arguments": {"city": "Oslo"}}],
            "finish_reason": "tool_call",
        }
    ]
    assert json.loads(second_call.attributes["gen_ai.input.messages"]) == [  # only what is new since the model spoke
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "w-1", "response": "sunny in Oslo"}]}
    ]
    tool_span = one(spans, "execute_tool lookup")
    assert tool_span.attributes["gen_ai.tool.call.arguments"] == '{"city": "Oslo"}'
    assert tool_span.attributes["gen_ai.tool.call.result"] == "sunny in Oslo"
    assert log_exporter.get_finished_logs() == ()


async def test_event_only_puts_content_in_events_not_spans(
    instrument: InstrumentAG2,
    span_exporter: InMemorySpanExporter,
    log_exporter: InMemoryLogRecordExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "EVENT_ONLY")
    instrument()

    await ask_weather()

    spans = span_exporter.get_finished_spans()
    assert all(CONTENT_KEYS.isdisjoint(span.attributes) for span in spans)
    events = {log.log_record.event_name: log.log_record for log in log_exporter.get_finished_logs()}
    assert set(events) == {
        "ag2.invoke_agent.details",
        "gen_ai.client.inference.operation.details",
        "ag2.execute_tool.details",
    }
    tool_event = events["ag2.execute_tool.details"]
    assert tool_event.attributes["gen_ai.tool.call.result"] == "sunny in Oslo"
    assert tool_event.span_id == one(spans, "execute_tool lookup").context.span_id
