"""``AG2Instrumentor`` on AG2 1.x: the entry point, instrument / uninstrument, and no classic line here."""

from __future__ import annotations

import importlib.util
from importlib.metadata import entry_points

import pytest
from ag2 import Agent
from ag2.agent import Agent as AgentClass
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from tests.v1.helpers import scripted

pytestmark = pytest.mark.timeout(30)


def test_the_entry_point_loads_the_instrumentor():
    (found,) = entry_points(group="opentelemetry_instrumentor", name="ag2")
    assert found.load() is AG2Instrumentor


def test_this_environment_has_only_the_1x_line():
    assert importlib.util.find_spec("autogen") is None


async def test_instrument_traces_agents_built_before_and_uninstrument_restores(
    tracer_provider: TracerProvider, span_exporter: InMemorySpanExporter
):
    original = AgentClass.__dict__["_turn_scope"]
    agent = Agent("helper", config=scripted("Hi!", "Hi again!"))
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        assert AgentClass.__dict__["_turn_scope"] is not original
        await agent.ask("Hello")
    finally:
        instrumentor.uninstrument()
    assert AgentClass.__dict__["_turn_scope"] is original
    await agent.ask("Hello again")
    assert [s.name for s in span_exporter.get_finished_spans()] == ["chat gpt-test", "invoke_agent helper"]
