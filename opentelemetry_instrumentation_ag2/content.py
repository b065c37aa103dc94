"""Message content in the GenAI conventions' JSON shape, built only when content capture is on.

Messages are built with opentelemetry-util-genai's message types (``InputMessage``, ``OutputMessage`` and
their parts, which follow the conventions' schemas) and serialised as util-genai serialises them. The
serialisers return ``None`` for a value they cannot serialise (say, a part whose ``__str__`` raises): that
one attribute or event field is left out, and the span is made as always.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, fields
from typing import Any, TypeVar

from opentelemetry.util.genai.types import (
    InputMessage,
    MessagePart,
    OutputMessage,
    Text,
    ToolCallRequest,
    ToolCallResponse,
    Uri,
)
from opentelemetry.util.genai.utils import gen_ai_json_dumps

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
    """Tool-call arguments as parsed JSON, or as given when they are not JSON (or nested too deep to parse)."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            return raw
    return raw


def _content_part(item: Any) -> MessagePart | None:
    """One item of a multi-part ``content`` as a conventions' part: text as text, an image by URL as a URI
    part, anything else that is not a dict as its text. Other typed items (audio, files) have no part
    util-genai would keep, and are left out."""
    if not isinstance(item, dict):
        return Text(content=str(item))
    kind = item.get("type")
    if kind == "text" or (kind is None and "text" in item):
        return Text(content=str(item.get("content", item.get("text", ""))))
    image = item.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if url:
        return Uri(mime_type=None, modality="image", uri=str(url))
    return None


def message_parts(message: dict[str, Any] | str | None) -> list[MessagePart]:
    """The ``parts`` of one AG2/OpenAI message: text, images, tool calls and tool-call responses."""
    if message is None:
        return []
    if isinstance(message, str):
        return [Text(content=message)]
    content = message.get("content")
    if message.get("role") == "tool" and "tool_call_id" in message:
        return [ToolCallResponse(response=content, id=message["tool_call_id"])]
    parts: list[MessagePart] = [
        ToolCallResponse(response=response.get("content"), id=response.get("tool_call_id"))
        for response in message.get("tool_responses") or ()
    ]
    if isinstance(content, str) and content and not parts:
        parts.append(Text(content=content))
    elif isinstance(content, list):
        parts.extend(part for part in map(_content_part, content) if part is not None)
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        arguments = _arguments(function.get("arguments"))
        parts.append(ToolCallRequest(arguments=arguments, name=function.get("name"), id=call.get("id")))
    return parts


def _role(message: Any, default: str) -> str:
    """A dict message's own role, else ``default``."""
    return (message.get("role") if isinstance(message, dict) else None) or default


_MESSAGES_HAVE_NAMES = "name" in {field.name for field in fields(InputMessage)}
"""Whether the installed util-genai's messages carry the participant's ``name`` (1.3 and later)."""


def _sender(message: Any) -> dict[str, str]:
    """``name=`` the agent that sent a dict message (a group chat names every speaker), where util-genai's
    messages have the field. A tool or function message's ``name`` is the function's, not a participant's."""
    if not _MESSAGES_HAVE_NAMES or not isinstance(message, dict) or message.get("role") in ("tool", "function"):
        return {}
    name = message.get("name")
    return {"name": str(name)} if name else {}


def input_message(message: dict[str, Any] | str | None, role: str = "user") -> InputMessage:
    """One message as the conventions' input message."""
    return InputMessage(role=_role(message, role), parts=message_parts(message), **_sender(message))


def output_message(reply: Any, finish_reason: str | None = None) -> OutputMessage:
    """A reply as the conventions' output message. It always says why it finished: when the caller does not
    know, ``tool_call`` for a reply that calls tools, else ``stop``."""
    parts = message_parts(reply)
    if not finish_reason:
        finish_reason = "tool_call" if any(isinstance(part, ToolCallRequest) for part in parts) else "stop"
    return OutputMessage(role=_role(reply, "assistant"), parts=parts, finish_reason=finish_reason, **_sender(reply))


def _role_of(message: Any) -> Any:
    return message.get("role") if isinstance(message, dict) else None


def new_input(messages: list[Any]) -> list[Any]:
    """The messages of a model request since the model last spoke (earlier ones are on earlier spans); before
    it first spoke, all but the system messages (``gen_ai.system_instructions`` holds those).

    Keeps content capture flat per turn: the whole history is not re-serialised on every call.
    """
    for index in range(len(messages) - 1, -1, -1):
        if _role_of(messages[index]) == "assistant":
            return messages[index + 1 :]
    return [message for message in messages if _role_of(message) != "system"]


def _json(items: Iterable[Any]) -> str:
    """Messages or parts as JSON, leaving out their unset optional fields (as a message's ``name`` when no
    participant is known), so that the shape is the same whichever release is installed."""
    return gen_ai_json_dumps([{k: v for k, v in asdict(item).items() if v is not None} for item in items])


@or_none
def messages_json(messages: list[Any], role: str = "user") -> str:
    """A list of messages as the JSON string of ``gen_ai.input.messages``."""
    return _json(input_message(message, role) for message in messages)


@or_none
def output_json(reply: Any, finish_reason: str | None = None) -> str:
    """An agent's or model's reply as ``gen_ai.output.messages`` JSON."""
    return _json([output_message(reply, finish_reason)])


@or_none
def outputs_json(replies: Iterable[tuple[Any, str | None]]) -> str:
    """Several replies (a model's choices) with their finish reasons as ``gen_ai.output.messages`` JSON."""
    return _json(output_message(reply, reason) for reply, reason in replies)


@or_none
def parts_json(parts: Iterable[MessagePart]) -> str:
    """Message parts as JSON, as ``gen_ai.system_instructions`` takes them."""
    return _json(parts)


@or_none
def as_text(value: Any) -> str:
    """Any captured value as a string attribute."""
    return value if isinstance(value, str) else json.dumps(value, default=str)
