"""AG2's own ``TelemetryMiddleware`` together with ours: one span per operation, whatever the order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from ag2 import Agent, tool
from ag2.events import ToolCallEvent
from ag2.middleware import BaseMiddleware, Middleware, TelemetryMiddleware
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_ag2.spans import Telemetry
from tests.v1.helpers import AG2_SCOPE, OUR_SCOPE, is_child, one, scope_of, scripted

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
    instrument: Callable[[], Telemetry], span_exporter: InMemorySpanExporter, tracer_provider: TracerProvider
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
    instrument: Callable[[], Telemetry], span_exporter: InMemorySpanExporter, tracer_provider: TracerProvider
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
    instrument: Callable[[], Telemetry], span_exporter: InMemorySpanExporter, tracer_provider: TracerProvider
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
