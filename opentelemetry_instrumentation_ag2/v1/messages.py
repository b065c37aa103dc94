"""AG2 1.x events as the OpenAI-style message dicts the shared ``content`` module turns into GenAI JSON.

Only called while content capture is on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ag2.events import HumanMessage, ModelRequest, ModelResponse, ToolResultsEvent


def part_text(part: Any) -> str:
    """One input part (text, data, URL, file) as text."""
    content = getattr(part, "content", None)
    if isinstance(content, str):
        return content
    if hasattr(part, "data"):
        return json.dumps(part.data, default=str)
    url = getattr(part, "url", None)
    return url if isinstance(url, str) else f"[{type(part).__name__}]"


def tool_result_text(event: Any) -> str:
    """The text of a ``ToolResultEvent`` (an error result carries the formatted exception)."""
    result = getattr(event, "result", None)
    return "\n".join(part_text(part) for part in getattr(result, "parts", None) or ())


def _tool_calls(response: Any) -> list[dict[str, Any]]:
    calls = getattr(getattr(response, "tool_calls", None), "calls", None) or ()
    return [{"id": call.id, "function": {"name": call.name, "arguments": call.arguments}} for call in calls]


def event_messages(event: Any) -> list[dict[str, Any]]:
    """The messages one history event stands for (none for events that are not conversation)."""
    if isinstance(event, ModelRequest):
        return [{"role": "user", "content": "\n".join(part_text(part) for part in event.parts)}]
    if isinstance(event, ModelResponse):
        return [response_message(event)]
    if isinstance(event, ToolResultsEvent):
        return [
            {"role": "tool", "tool_call_id": result.parent_id, "content": tool_result_text(result)}
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


def new_input(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages since the model last spoke (earlier ones are on earlier spans)."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "assistant":
            return messages[index + 1 :]
    return messages
