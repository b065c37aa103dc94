"""AG2 1.x events as GenAI message JSON, through the shared ``content`` serialisers.

Only called while content capture is on. Every function a span's ``describe`` or ``finish`` calls returns
the finished attribute value, or ``None`` for a value it cannot serialise (as the classic line's messages,
through :func:`~opentelemetry_instrumentation_ag2.content.or_none`). A data part that cannot be read (an
object whose ``__str__`` raises, a structure too deep or circular) is left out of its message alone, so a
history holding one still gives every later model call its input.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ag2.events import HumanMessage, ModelRequest, ModelResponse, ToolResultsEvent

from opentelemetry_instrumentation_ag2.content import messages_json, new_input, or_none, output_json


@or_none
def _data_text(data: Any) -> str:
    return json.dumps(data, default=str)


def part_text(part: Any) -> str | None:
    """One input part (text, data, URL, file) as text; ``None`` for data that cannot be serialised."""
    content = getattr(part, "content", None)
    if isinstance(content, str):
        return content
    if hasattr(part, "data"):
        return _data_text(part.data)
    url = getattr(part, "url", None)
    return url if isinstance(url, str) else f"[{type(part).__name__}]"


def _parts_text(parts: Iterable[Any]) -> str | None:
    """The readable parts' text, newline-joined; ``None`` when there were parts and none could be read."""
    texts = list(map(part_text, parts))
    readable = [found for found in texts if found is not None]
    return "\n".join(readable) if readable or not texts else None


def _result_text(event: Any) -> str | None:
    return _parts_text(getattr(getattr(event, "result", None), "parts", None) or ())


@or_none
def tool_result_text(event: Any) -> str | None:
    """``gen_ai.tool.call.result``: the text of a ``ToolResultEvent`` (an error's carries the formatted exception)."""
    return _result_text(event)


def _tool_calls(response: Any) -> list[dict[str, Any]]:
    calls = getattr(getattr(response, "tool_calls", None), "calls", None) or ()
    return [{"id": call.id, "function": {"name": call.name, "arguments": call.arguments}} for call in calls]


def event_messages(event: Any) -> list[dict[str, Any]]:
    """The messages one history event stands for (none for events that are not conversation)."""
    if isinstance(event, ModelRequest):
        return [{"role": "user", "content": _parts_text(event.parts)}]
    if isinstance(event, ModelResponse):
        return [response_message(event)]
    if isinstance(event, ToolResultsEvent):
        return [
            {"role": "tool", "tool_call_id": result.parent_id, "content": _result_text(result)}
            for result in event.results
        ]
    if isinstance(event, HumanMessage):
        return [{"role": "user", "content": event.content}]
    return []


def response_message(response: Any) -> dict[str, Any]:
    """A ``ModelResponse`` as an assistant message."""
    message: dict[str, Any] = {"role": "assistant", "content": getattr(response, "content", None)}
    calls = _tool_calls(response)
    if calls:
        message["tool_calls"] = calls
    return message


def history_messages(events: Iterable[Any]) -> list[dict[str, Any]]:
    """The messages of a history."""
    return [message for event in events for message in event_messages(event)]


@or_none
def turn_input_json(event: Any) -> str | None:
    """``gen_ai.input.messages`` of a turn: the event that started it (``None`` when it is no message)."""
    messages = event_messages(event)
    return messages_json(messages) if messages else None


@or_none
def call_input_json(events: Iterable[Any]) -> str | None:
    """``gen_ai.input.messages`` of a model call: the history's messages since the model last spoke."""
    return messages_json(new_input(history_messages(events)))


@or_none
def reply_json(response: Any, finish_reason: str | None = None) -> str | None:
    """``gen_ai.output.messages`` of a ``ModelResponse``."""
    return output_json(response_message(response), finish_reason)
