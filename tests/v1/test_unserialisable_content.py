"""Content capture on: a value that cannot be serialised is left out, and every span is made as always."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from ag2 import Agent, tool
from ag2.events import DataInput, ToolCallEvent
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from tests.support.fixtures import InstrumentAG2
from tests.v1.helpers import by_name, is_child, one, scripted

pytestmark = pytest.mark.timeout(30)

INFERENCE_EVENT = "gen_ai.client.inference.operation.details"


class Unprintable:
    """An object whose ``__str__`` (and ``repr``) raise."""

    def __str__(self) -> str:
        raise ValueError("this object cannot be printed")

    __repr__ = __str__


def too_deep(depth: int = 100_000) -> dict[str, Any]:
    """A dict nested deeper than JSON encoders recurse (3,000 levels serialise on Python 3.13; this does not)."""
    root: dict[str, Any] = {}
    level = root
    for _ in range(depth):
        level["inner"] = {}
        level = level["inner"]
    return root


def circular() -> dict[str, Any]:
    """A dict that holds itself."""
    loop: dict[str, Any] = {}
    loop["self"] = loop
    return loop


UNSERIALISABLE: dict[str, Callable[[], Any]] = {"unprintable": Unprintable, "too_deep": too_deep, "circular": circular}


@pytest.fixture(params=sorted(UNSERIALISABLE))
def value(request: pytest.FixtureRequest) -> Any:
    return UNSERIALISABLE[request.param]()


@pytest.fixture
def capture_everything(instrument: InstrumentAG2, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_AND_EVENT")
    instrument()


def input_messages(span: ReadableSpan) -> list[dict[str, Any]]:
    return json.loads(str(span.attributes["gen_ai.input.messages"]))


def succeeded(spans: list[ReadableSpan]) -> bool:
    return all(span.status.status_code is StatusCode.UNSET for span in spans)


async def test_a_message_part_that_cannot_be_serialised_is_left_out_of_its_spans(
    capture_everything: None, span_exporter: InMemorySpanExporter, log_exporter: InMemoryLogRecordExporter, value: Any
) -> None:
    agent = Agent("reader", config=scripted("Read it."))

    assert (await agent.ask("Look at this:", DataInput(value))).body == "Read it."

    spans = span_exporter.get_finished_spans()
    turn, chat = one(spans, "invoke_agent reader"), one(spans, "chat gpt-test")
    assert is_child(chat, turn) and succeeded([turn, chat])
    expected = [{"role": "user", "parts": [{"type": "text", "content": "Look at this:"}]}]
    assert input_messages(turn) == input_messages(chat) == expected
    assert json.loads(str(chat.attributes["gen_ai.output.messages"]))[0]["parts"][0]["content"] == "Read it."
    events = [log for log in log_exporter.get_finished_logs() if log.log_record.event_name == INFERENCE_EVENT]
    assert len(events) == 1


async def test_a_tool_result_that_cannot_be_serialised_loses_no_later_span(
    capture_everything: None, span_exporter: InMemorySpanExporter, log_exporter: InMemoryLogRecordExporter, value: Any
) -> None:
    @tool
    def inspect_state() -> Any:
        """Returns the state as it is."""
        return value

    agent = Agent(
        "inspector",
        config=scripted(ToolCallEvent(name="inspect_state", arguments="{}", id="s-1"), "Inspected.", "Still fine."),
        tools=[inspect_state],
    )

    reply = await agent.ask("Inspect.")
    assert reply.body == "Inspected."
    assert (await reply.ask("Again?")).body == "Still fine."

    spans = span_exporter.get_finished_spans()
    first_turn, second_turn = by_name(spans, "invoke_agent inspector")
    tool_span = one(spans, "execute_tool inspect_state")
    chats = by_name(spans, "chat gpt-test")
    assert len(chats) == 3 and succeeded([first_turn, second_turn, tool_span, *chats])
    assert [is_child(chat, first_turn) for chat in chats] == [True, True, False]
    assert is_child(chats[2], second_turn) and is_child(tool_span, first_turn)
    assert "gen_ai.tool.call.result" not in tool_span.attributes
    after_tool, later = input_messages(chats[1]), input_messages(chats[2])
    assert [message["role"] for message in after_tool] == ["tool"]
    assert later == [{"role": "user", "parts": [{"type": "text", "content": "Again?"}]}]
    events = [log for log in log_exporter.get_finished_logs() if log.log_record.event_name == INFERENCE_EVENT]
    assert len(events) == 3
