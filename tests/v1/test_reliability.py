"""Telemetry never breaks the app; cancellation ends every span; suppression and uninstrumenting work."""

from __future__ import annotations

import asyncio

import pytest
from ag2 import Agent, tool
from ag2.agent import Agent as AgentClass
from ag2.events import ToolCallEvent
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_ag2.v1 import agents as v1_agents
from opentelemetry_instrumentation_ag2.v1 import llm as v1_llm
from tests.support.fixtures import InstrumentAG2
from tests.v1.helpers import by_name, one, scripted

pytestmark = pytest.mark.timeout(30)


async def test_a_telemetry_failure_never_reaches_the_app(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("telemetry bug")

    monkeypatch.setattr(v1_agents, "new_usage", broken)  # describing the turn fails
    monkeypatch.setattr(v1_llm, "token_count", broken)  # reading the LLM response fails
    instrument()

    reply = await Agent("sturdy", config=scripted("fine")).ask("hi")

    assert reply.body == "fine"
    spans = span_exporter.get_finished_spans()
    assert by_name(spans, "invoke_agent sturdy") == []  # that span was given up, nothing else
    chat = one(spans, "chat gpt-test")
    assert chat.status.status_code is StatusCode.UNSET and chat.end_time is not None


async def test_cancelling_a_running_ask_ends_every_span(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter
) -> None:
    instrument()
    started = asyncio.Event()

    @tool
    async def wait_forever() -> str:
        """Never returns."""
        started.set()
        await asyncio.Event().wait()
        return "unreachable"

    agent = Agent(
        "patient", config=scripted(ToolCallEvent(name="wait_forever", id="w-1"), "never"), tools=[wait_forever]
    )
    task = asyncio.ensure_future(agent.ask("wait"))
    await asyncio.wait_for(started.wait(), 10)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    spans = span_exporter.get_finished_spans()
    assert sorted(s.name for s in spans) == ["chat gpt-test", "execute_tool wait_forever", "invoke_agent patient"]
    for name in ("execute_tool wait_forever", "invoke_agent patient"):
        span = one(spans, name)
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes["error.type"].endswith("CancelledError")


async def test_leaving_a_run_block_early_ends_its_spans(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter
) -> None:
    instrument()
    started = asyncio.Event()

    @tool
    async def slow() -> str:
        """Takes its time."""
        started.set()
        await asyncio.Event().wait()
        return "late"

    agent = Agent("background", config=scripted(ToolCallEvent(name="slow", id="s-1"), "never"), tools=[slow])
    async with agent.run("go") as run:
        run.start()
        await asyncio.wait_for(started.wait(), 10)
    # AgentRun cancels the turn it drove in the background when the block ends

    names = sorted(s.name for s in span_exporter.get_finished_spans())
    assert names == ["chat gpt-test", "execute_tool slow", "invoke_agent background"]


async def test_suppressed_instrumentation_makes_no_spans(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter
) -> None:
    instrument()

    with suppress_instrumentation():
        reply = await Agent("quiet", config=scripted("shh")).ask("hi")

    assert reply.body == "shh"
    assert span_exporter.get_finished_spans() == ()


async def test_uninstrumenting_restores_ag2_and_stops_spans(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter
) -> None:
    original = AgentClass.__dict__["_turn_scope"]
    instrumentor = instrument()
    patched = AgentClass.__dict__["_turn_scope"]
    agent = Agent("once", config=scripted("first", "second"))
    reply = await agent.ask("hi")
    assert patched is not original and patched.__wrapped__ is original
    assert [s.name for s in span_exporter.get_finished_spans()] == ["chat gpt-test", "invoke_agent once"]
    span_exporter.clear()

    instrumentor.uninstrument()

    assert AgentClass.__dict__["_turn_scope"] is original
    assert (await reply.ask("again")).body == "second"
    assert (await Agent("later", config=scripted("x")).ask("hi")).body == "x"
    assert span_exporter.get_finished_spans() == ()
