"""What a traced turn leaves reachable from the tracing context: nothing of the turn's own objects."""

from __future__ import annotations

import gc
import types
from typing import Any

import pytest
from ag2 import Agent, tool
from ag2.annotations import Context
from ag2.events import ToolCallEvent
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support.fixtures import InstrumentAG2
from tests.v1.helpers import one, scripted

pytestmark = pytest.mark.timeout(60)

_NOT_FOLLOWED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.CodeType)
"""Shared, long-lived objects that reach everything: a traversal through them says nothing about the turn."""


def reaches(root: Any, target: Any) -> bool:
    """Whether ``target`` can be reached from ``root`` through object references (long-lived code objects aside)."""
    seen = {id(root)}
    frontier = [root]
    while frontier:
        found = []
        for obj in frontier:
            for referent in gc.get_referents(obj):
                if referent is target:
                    return True
                if id(referent) not in seen and not isinstance(referent, _NOT_FOLLOWED):
                    seen.add(id(referent))
                    found.append(referent)
        frontier = found
    return False


async def test_the_tracing_context_of_a_turn_reaches_none_of_the_turns_own_objects(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter
) -> None:
    """The OpenTelemetry context variable keeps its last value after a turn, and a garbage collection promotes
    whatever that reaches to the oldest generation: were it the turn's conversation context (its stream, history,
    subscribers), every traced turn would make full collections more frequent."""
    instrument()
    found: dict[str, bool] = {}

    @tool
    def look(context: Context) -> str:
        """Looks around."""
        found["conversation stream"] = reaches(otel_context.get_current(), context.stream)
        return "seen"

    agent = Agent("lean", config=scripted(ToolCallEvent(name="look", id="l-1"), "done"), tools=[look])
    reply = await agent.ask("look")

    assert reply.body == "done"
    assert found == {"conversation stream": False}
    spans = span_exporter.get_finished_spans()
    assert one(spans, "execute_tool look").parent.span_id == one(spans, "invoke_agent lean").context.span_id
