"""Message content in the GenAI conventions' JSON shape, built only when content capture is on.

The serialisers return ``None`` for a value they cannot serialise (say, a part whose ``__str__`` raises):
that one attribute or event field is left out, and the span is made as always.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

_Result = TypeVar("_Result")


def or_none(serialise: Callable[..., _Result]) -> Callable[..., _Result | None]:
    """Decorate a content serialiser: ``None`` instead of an exception."""

    @functools.wraps(serialise)
    def safely(*args: Any, **kwargs: Any) -> _Result | None:
        try:
            return serialise(*args, **kwargs)
        except Exception:
            logger.debug("ag2 instrumentation left out content it could not serialise", exc_info=True)
            return None

    return safely


def _arguments(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _content_part(item: Any) -> dict[str, Any]:
    """One item of a multi-part ``content`` as a conventions' part: OpenAI's ``{"type": "text", "text"}`` as a
    text part, other typed items (images, audio, files) as generic parts, anything else as text."""
    if not isinstance(item, dict):
        return {"type": "text", "content": str(item)}
    kind = item.get("type")
    if kind == "text" and "content" not in item:
        return {"type": "text", "content": str(item.get("text", ""))}
    return item if isinstance(kind, str) and kind else {"type": "generic", **item}


def message_parts(message: dict[str, Any] | str | None) -> list[dict[str, Any]]:
    """The ``parts`` of one AG2/OpenAI message: text, tool calls and tool-call responses."""
    if message is None:
        return []
    if isinstance(message, str):
        return [{"type": "text", "content": message}]
    parts: list[dict[str, Any]] = []
    content = message.get("content")
    if message.get("role") == "tool" and "tool_call_id" in message:
        return [{"type": "tool_call_response", "id": message["tool_call_id"], "response": content}]
    for response in message.get("tool_responses") or ():
        parts.append(
            {"type": "tool_call_response", "id": response.get("tool_call_id"), "response": response.get("content")}
        )
    if isinstance(content, str) and content and not parts:
        parts.append({"type": "text", "content": content})
    elif isinstance(content, list):
        parts.extend(_content_part(item) for item in content)
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        parts.append(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": function.get("name"),
                "arguments": _arguments(function.get("arguments")),
            }
        )
    return parts


def to_otel_message(message: dict[str, Any] | str | None, role: str = "user") -> dict[str, Any]:
    """One message as a GenAI ``{"role", "parts"}`` object."""
    if isinstance(message, dict):
        role = message.get("role") or role
    return {"role": role, "parts": message_parts(message)}


@or_none
def messages_json(messages: list[Any], role: str = "user") -> str:
    """A list of messages as the JSON string of ``gen_ai.input.messages`` / ``gen_ai.output.messages``."""
    return json.dumps([to_otel_message(message, role) for message in messages], default=str)


@or_none
def output_json(reply: Any, finish_reason: str | None = None) -> str:
    """An agent's or model's reply as ``gen_ai.output.messages`` JSON. An output message always says why it
    finished: when the caller does not know, ``tool_call`` for a reply that calls tools, else ``stop``."""
    message = to_otel_message(reply, "assistant")
    if not finish_reason:
        calls_tools = any(part.get("type") == "tool_call" for part in message["parts"])
        finish_reason = "tool_call" if calls_tools else "stop"
    message["finish_reason"] = finish_reason
    return json.dumps([message], default=str)


@or_none
def text(value: Any) -> str:
    """Any captured value as a string attribute."""
    return value if isinstance(value, str) else json.dumps(value, default=str)
