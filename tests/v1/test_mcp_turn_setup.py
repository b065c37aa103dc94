"""A turn's set-up belongs to the turn: what a toolkit does to discover its tools (as ``MCPToolkit`` asks its
MCP server) is beneath the turn's ``invoke_agent`` span, however the turn is started and driven; MCP
notifications sent within a turn carry its trace context. The real MCP processes: ``test_mcp_cross_process``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import pytest
from ag2 import Agent, tool
from ag2.events import ToolCallEvent
from ag2.tools import Toolkit
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from opentelemetry_instrumentation_ag2.remote.meta_context import with_meta_context
from tests.support.fixtures import InstrumentAG2
from tests.v1.helpers import by_name, is_child, one, scripted

pytestmark = pytest.mark.timeout(30)

DISCOVERY = "discover remote tools"


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}."


class DiscoveringToolkit(Toolkit):
    """A toolkit that, like ``MCPToolkit``, does traced work to discover its tools while AG2 sets the turn up.

    Its tracer and failure are the class's: AG2 deep-copies an agent's tools.
    """

    tracer: ClassVar[trace.Tracer]
    failure: ClassVar[Exception | None] = None

    async def schemas(self, context: Any) -> Iterable[Any]:
        with self.tracer.start_as_current_span(DISCOVERY):
            if self.failure is not None:
                raise self.failure
            return await super().schemas(context)


@pytest.fixture
def toolkit(tracer_provider: TracerProvider, monkeypatch: pytest.MonkeyPatch) -> Callable[..., DiscoveringToolkit]:
    def make(failure: Exception | None = None) -> DiscoveringToolkit:
        monkeypatch.setattr(DiscoveringToolkit, "tracer", tracer_provider.get_tracer("a toolkit"), raising=False)
        monkeypatch.setattr(DiscoveringToolkit, "failure", failure)
        return DiscoveringToolkit(get_weather, name="remote")

    return make


def weather_agent(toolkit: Toolkit) -> Agent:
    call = ToolCallEvent(name="get_weather", arguments='{"city": "Paris"}', id="c-1")
    return Agent("weather_agent", config=scripted(call, "Sunny.", "Still sunny."), tools=[toolkit])


async def test_the_discovery_of_each_turn_is_beneath_its_turn_ask_or_continuation(
    instrument: InstrumentAG2,
    span_exporter: InMemorySpanExporter,
    toolkit: Callable[..., DiscoveringToolkit],
) -> None:
    instrument()
    reply = await weather_agent(toolkit()).ask("Weather?")  # driven in AgentRun's own task
    await reply.ask("And now?")  # AgentReply.ask: set up and driven in the caller's task

    spans = span_exporter.get_finished_spans()
    turns = by_name(spans, "invoke_agent weather_agent")
    assert len(turns) == 2 and all(turn.parent is None for turn in turns)
    for turn in turns:  # AG2 asks a toolkit for its schemas more than once while it sets a turn up
        discoveries = [s for s in by_name(spans, DISCOVERY) if is_child(s, turn)]
        assert discoveries and all(turn.start_time <= s.start_time <= s.end_time <= turn.end_time for s in discoveries)
    assert all(any(is_child(s, turn) for turn in turns) for s in by_name(spans, DISCOVERY)), "none outside a turn"
    (tool_span,) = by_name(spans, "execute_tool get_weather")
    assert is_child(tool_span, turns[0]) and tool_span.attributes["gen_ai.tool.description"] == "The weather in a city."
    assert len(by_name(spans, "chat gpt-test")) == 3
    assert trace.get_current_span() is trace.INVALID_SPAN, "nothing left current in the caller"


async def test_a_turn_whose_discovery_fails_is_a_failed_turn_and_the_exception_passes_unchanged(
    instrument: InstrumentAG2,
    span_exporter: InMemorySpanExporter,
    toolkit: Callable[..., DiscoveringToolkit],
) -> None:
    instrument()
    unreachable = ConnectionError("the MCP server is unreachable")

    with pytest.raises(ConnectionError) as raised:
        await weather_agent(toolkit(unreachable)).ask("Weather?")

    assert raised.value is unreachable
    spans = span_exporter.get_finished_spans()
    turn = one(spans, "invoke_agent weather_agent")
    assert [is_child(s, turn) for s in by_name(spans, DISCOVERY)] == [True]
    assert turn.status.status_code is StatusCode.ERROR
    assert turn.attributes["error.type"] == "ConnectionError"
    assert [s.name for s in spans if s.name.startswith("chat")] == []
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_a_run_left_undriven_ends_its_turn_and_leaves_the_callers_context_alone(
    instrument: InstrumentAG2,
    span_exporter: InMemorySpanExporter,
    toolkit: Callable[..., DiscoveringToolkit],
) -> None:
    instrument()
    async with weather_agent(toolkit()).run("Weather?"):
        assert trace.get_current_span() is trace.INVALID_SPAN, "the caller's block is not in the turn"

    spans = span_exporter.get_finished_spans()
    turn = one(spans, "invoke_agent weather_agent")
    assert turn.status.status_code is StatusCode.UNSET
    assert {s.name for s in spans if s is not turn} == {DISCOVERY}
    assert all(is_child(s, turn) for s in spans if s is not turn)


def test_an_mcp_notification_gets_the_current_context_in_its_meta_and_keeps_what_it_has(
    tracer_provider: TracerProvider,
) -> None:
    assert with_meta_context({"progressToken": 1}) == {"progressToken": 1}, "no span: unchanged"

    with tracer_provider.get_tracer("test").start_as_current_span("turn") as span:
        carrier: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(carrier)
        assert with_meta_context(None) == {"_meta": carrier}
        assert with_meta_context({"requestId": 7, "_meta": {"traceparent": "kept", "k": "v"}}) == {
            "requestId": 7,
            "_meta": {"traceparent": "kept", "k": "v"},
        }
        assert span.get_span_context().is_valid
