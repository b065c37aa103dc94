"""``await_human_input`` spans around human-in-the-loop input (the agent's ``hitl_hook``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ag2 import Agent, Context, tool
from ag2.events import ToolCallEvent
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_ag2.spans import fq_exception_type
from tests.support.fixtures import InstrumentAG2
from tests.v1.helpers import is_child, one, scripted

pytestmark = pytest.mark.timeout(30)


@tool
async def confirm(ctx: Context, order: str) -> str:
    """Ask the human to confirm an order."""
    answer = await ctx.input(f"Ship {order}?")
    return f"human said {answer}"


def agent_asking(hook: Callable[..., str]) -> Agent:
    return Agent(
        "clerk",
        config=scripted(ToolCallEvent(name="confirm", arguments='{"order": "A-1"}', id="c-1"), "Shipped."),
        tools=[confirm],
        hitl_hook=hook,
    )


async def test_human_input_span_nests_under_the_tool_that_asked(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter
) -> None:
    instrument()

    reply = await agent_asking(lambda request: "yes").ask("Ship order A-1")

    assert reply.body == "Shipped."
    spans = span_exporter.get_finished_spans()
    human = one(spans, "await_human_input clerk")
    assert is_child(human, one(spans, "execute_tool confirm"))
    assert dict(human.attributes) == {
        "ag2.span.type": "human_input",
        "gen_ai.operation.name": "await_human_input",
        "gen_ai.agent.name": "clerk",
        "gen_ai.conversation.id": str(reply.context.stream.id),
    }
    assert human.status.status_code is StatusCode.UNSET


async def test_human_input_content_is_captured_only_when_asked(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    instrument()

    await agent_asking(lambda request: "yes please").ask("Ship order A-1")

    human = one(span_exporter.get_finished_spans(), "await_human_input clerk")
    assert human.attributes["ag2.human_input.prompt"] == "Ship A-1?"
    assert human.attributes["ag2.human_input.response"] == "yes please"


async def test_a_failing_human_channel_fails_its_span(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter
) -> None:
    instrument()

    def unreachable(request: object) -> str:
        raise TimeoutError("nobody at the desk")

    raised: Exception | None = None
    try:
        await agent_asking(unreachable).ask("Ship order A-1")
    except Exception as exc:  # ag2 >= 1.2 ends the turn with HumanInputFailedError; 1.0 fails only the tool
        raised = exc

    spans = span_exporter.get_finished_spans()
    human = one(spans, "await_human_input clerk")
    assert human.status.status_code is StatusCode.ERROR
    assert human.attributes["error.type"] == "TimeoutError"
    assert one(spans, "execute_tool confirm").status.status_code is StatusCode.ERROR
    turn = one(spans, "invoke_agent clerk")
    if raised is None:
        assert turn.status.status_code is StatusCode.UNSET
    else:
        assert type(raised).__name__ == "HumanInputFailedError"
        assert turn.attributes["error.type"] == fq_exception_type(raised)
