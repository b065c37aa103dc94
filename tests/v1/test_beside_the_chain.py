"""What AG2 1.x answers without passing through middleware, and what the model is offered (issue 30)."""

from __future__ import annotations

import contextlib
import json

import pytest
from ag2 import Agent, Context, Plugin, tool
from ag2.events import ToolCallEvent
from ag2.exceptions import HumanInputNotProvidedError, ToolNotFoundError
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from opentelemetry_instrumentation_ag2.config import CAPTURE_MESSAGE_CONTENT_ENV
from opentelemetry_instrumentation_ag2.spans import fq_exception_type
from tests.v1.helpers import is_child, one, scripted

pytestmark = pytest.mark.timeout(30)


@tool
def get_weather(city: str) -> str:
    """Today's weather for a city."""
    return f"Sunny in {city}."


@tool
async def confirm(ctx: Context, order: str) -> str:
    """Ask the human to confirm an order."""
    return await ctx.input(f"Ship {order}?")


async def test_a_tool_the_agent_lacks_is_a_failed_tool_span(
    instrumented: None, span_exporter: InMemorySpanExporter
) -> None:
    model = scripted(ToolCallEvent(name="book_flight", arguments="{}", id="call-9"), "I cannot book flights.")
    agent = Agent("planner", config=model, tools=[get_weather])

    reply = await agent.ask("Book me a flight")

    assert reply.body == "I cannot book flights."  # AG2 told the model the tool does not exist
    spans = span_exporter.get_finished_spans()
    turn, missing = one(spans, "invoke_agent planner"), one(spans, "execute_tool book_flight")
    assert is_child(missing, turn)
    assert missing.attributes["gen_ai.tool.name"] == "book_flight"
    assert missing.attributes["gen_ai.tool.call.id"] == "call-9"
    assert missing.status.status_code is StatusCode.ERROR
    assert missing.attributes["error.type"] == fq_exception_type(ToolNotFoundError("book_flight"))
    assert [event.name for event in missing.events] == ["exception"]


async def test_human_input_asked_without_a_hitl_hook_is_a_failed_span(
    instrumented: None, span_exporter: InMemorySpanExporter
) -> None:
    model = scripted(ToolCallEvent(name="confirm", arguments='{"order": "A-1"}', id="c-1"), "Not shipped.")
    agent = Agent("clerk", config=model, tools=[confirm])  # no hitl_hook: AG2's default refuses

    with contextlib.suppress(HumanInputNotProvidedError):  # ag2 >= 1.1 ends the turn with it; 1.0 tells the model
        await agent.ask("Ship order A-1")

    spans = span_exporter.get_finished_spans()
    human = one(spans, "await_human_input clerk")
    assert is_child(human, one(spans, "execute_tool confirm"))
    assert human.status.status_code is StatusCode.ERROR
    assert human.attributes["error.type"] == fq_exception_type(HumanInputNotProvidedError())
    assert [event.name for event in human.events] == ["exception"]


async def test_tool_definitions_are_captured_with_content_on(
    tracer_provider: TracerProvider, span_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CAPTURE_MESSAGE_CONTENT_ENV, "SPAN_ONLY")
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        await Agent("forecaster", config=scripted("Sunny."), tools=[get_weather]).ask("Weather?")
    finally:
        instrumentor.uninstrument()

    chat = one(span_exporter.get_finished_spans(), "chat gpt-test")
    (definition,) = json.loads(chat.attributes["gen_ai.tool.definitions"])
    assert definition["type"] == "function"
    assert definition["function"]["name"] == "get_weather"
    assert definition["function"]["description"] == "Today's weather for a city."
    assert definition["function"]["parameters"]["properties"]["city"]["type"] == "string"


async def test_no_tool_definitions_without_content_capture(
    instrumented: None, span_exporter: InMemorySpanExporter
) -> None:
    await Agent("forecaster", config=scripted("Sunny."), tools=[get_weather]).ask("Weather?")

    assert "gen_ai.tool.definitions" not in one(span_exporter.get_finished_spans(), "chat gpt-test").attributes


PER_CALL_PLUGINS = "plugins" in Agent.ask.__code__.co_varnames  # ``ask(plugins=...)``: ag2 >= 1.1


@pytest.mark.skipif(not PER_CALL_PLUGINS, reason="ag2 1.0 has no per-call plugins (agent plugins' tools are its own)")
async def test_a_per_call_plugins_tool_has_its_description(
    instrumented: None, span_exporter: InMemorySpanExporter
) -> None:
    model = scripted(ToolCallEvent(name="get_weather", arguments='{"city": "Oslo"}', id="c-2"), "Sunny.")
    agent = Agent("forecaster", config=model)

    await agent.ask("Weather in Oslo?", plugins=[Plugin(tools=[get_weather])])

    span = one(span_exporter.get_finished_spans(), "execute_tool get_weather")
    assert span.attributes["gen_ai.tool.description"] == "Today's weather for a city."
    assert span.status.status_code is StatusCode.UNSET
