"""``execute_tool`` spans: function tools, toolkits, failing tools and subagents (``Agent.as_tool``)."""

from __future__ import annotations

import pytest
from ag2 import Agent, Toolkit, tool
from ag2.events import ToolCallEvent
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tests.support.fixtures import InstrumentAG2
from tests.v1.helpers import by_name, is_child, one, scripted

pytestmark = pytest.mark.timeout(30)


class InventoryError(RuntimeError):
    """A failure of the application's own tool."""


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
async def reserve(item: str) -> str:
    """Reserve an item in stock."""
    raise InventoryError(f"{item} is out of stock")


def call(name: str, arguments: str = "{}", call_id: str = "call-1") -> ToolCallEvent:
    return ToolCallEvent(name=name, arguments=arguments, id=call_id)


async def test_function_tool_span_under_its_turn(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter, metric_reader: InMemoryMetricReader
) -> None:
    instrument()
    agent = Agent("calc", config=scripted(call("add", '{"a": 2, "b": 3}'), "5"), tools=[add])

    reply = await agent.ask("2+3?")

    assert reply.body == "5"
    spans = span_exporter.get_finished_spans()
    assert [s.name for s in spans] == ["chat gpt-test", "execute_tool add", "chat gpt-test", "invoke_agent calc"]
    turn, tool_span = one(spans, "invoke_agent calc"), one(spans, "execute_tool add")
    assert tool_span.kind is SpanKind.INTERNAL and is_child(tool_span, turn)
    assert all(is_child(chat, turn) for chat in by_name(spans, "chat gpt-test"))
    assert dict(tool_span.attributes) == {
        "ag2.span.type": "tool",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "add",
        "gen_ai.tool.call.id": "call-1",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.description": "Add two integers.",
        "gen_ai.agent.name": "calc",
        "gen_ai.conversation.id": str(reply.context.stream.id),
    }
    assert tool_span.status.status_code is StatusCode.UNSET
    durations = [
        point
        for resource_metrics in metric_reader.get_metrics_data().resource_metrics
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
        if metric.name == "gen_ai.execute_tool.duration"
        for point in metric.data.data_points
    ]
    assert [dict(p.attributes) for p in durations] == [
        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "add", "gen_ai.tool.type": "function"}
    ]


async def test_a_failing_tool_records_its_real_exception_while_ag2_carries_on(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter
) -> None:
    instrument()
    agent = Agent("shop", config=scripted(call("reserve", '{"item": "lamp"}'), "Sorry, no lamps."), tools=[reserve])

    reply = await agent.ask("Reserve a lamp")

    assert reply.body == "Sorry, no lamps."  # AG2 handed the model an error message and the turn went on
    spans = span_exporter.get_finished_spans()
    tool_span, turn = one(spans, "execute_tool reserve"), one(spans, "invoke_agent shop")
    assert tool_span.status.status_code is StatusCode.ERROR
    assert tool_span.attributes["error.type"] == f"{__name__}.InventoryError"
    (event,) = tool_span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == f"{__name__}.InventoryError"
    assert event.attributes["exception.message"] == "lamp is out of stock"
    assert "in reserve" in event.attributes["exception.stacktrace"]  # raised where the tool raised it
    assert turn.status.status_code is StatusCode.UNSET


async def test_toolkit_tools_are_traced_with_their_descriptions(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter
) -> None:
    instrument()
    kit = Toolkit(name="math")

    @kit.tool(description="Multiply two integers.")
    def multiply(a: int, b: int) -> int:
        return a * b

    agent = Agent("kit", config=scripted(call("multiply", '{"a": 6, "b": 7}', "call-9"), "42"), tools=[kit])

    assert (await agent.ask("6*7")).body == "42"
    tool_span = one(span_exporter.get_finished_spans(), "execute_tool multiply")
    assert tool_span.attributes["gen_ai.tool.description"] == "Multiply two integers."
    assert tool_span.attributes["gen_ai.tool.call.id"] == "call-9"


async def test_subagent_turns_nest_under_the_delegating_tool(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter
) -> None:
    instrument()
    researcher = Agent("researcher", config=scripted("Paris is the capital."))
    lead = Agent(
        "lead",
        config=scripted(call("task_researcher", '{"objective": "capital of France?"}'), "It is Paris."),
        tools=[researcher.as_tool(description="Looks facts up.")],
    )

    reply = await lead.ask("What is the capital of France?")

    assert reply.body == "It is Paris."
    spans = span_exporter.get_finished_spans()
    lead_turn = one(spans, "invoke_agent lead")
    delegation = one(spans, "execute_tool task_researcher")
    sub_turn = one(spans, "invoke_agent researcher")
    assert is_child(delegation, lead_turn) and is_child(sub_turn, delegation)
    assert delegation.attributes["gen_ai.tool.description"] == "Looks facts up."
    (sub_chat,) = [s for s in spans if is_child(s, sub_turn)]
    assert sub_chat.name == "chat gpt-test"
    assert sub_turn.attributes["gen_ai.conversation.id"] != lead_turn.attributes["gen_ai.conversation.id"]
    assert len({s.context.trace_id for s in spans}) == 1
