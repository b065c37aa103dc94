"""The shared core's pure helpers: message parts, content serialisers, capture modes, usage roll-ups, copies."""

from __future__ import annotations

import copy
import json
import pickle
from dataclasses import asdict, fields

import pytest
from opentelemetry import context
from opentelemetry.util.genai.types import ContentCapturingMode, InputMessage

from opentelemetry_instrumentation_ag2.config import Settings, parse_capture_mode
from opentelemetry_instrumentation_ag2.content import as_text, input_message, message_parts, messages_json, output_json
from opentelemetry_instrumentation_ag2.patching import PatchedFunction, original_function
from opentelemetry_instrumentation_ag2.spans import fq_exception_type
from opentelemetry_instrumentation_ag2.usage import USAGE, Usage, new_usage


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text")

    __repr__ = __str__


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        (None, []),
        ("hi", [{"type": "text", "content": "hi"}]),
        ({"role": "user", "content": "hi"}, [{"type": "text", "content": "hi"}]),
        ({"role": "user", "content": ""}, []),
        (
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
            [{"type": "tool_call_response", "id": "c1", "response": "42"}],
        ),
        (
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": '{"x": 1}'}}],
            },
            [{"type": "tool_call", "id": "c1", "name": "f", "arguments": {"x": 1}}],
        ),
        (
            {"tool_calls": [{"id": "c2", "function": {"name": "f", "arguments": "not json"}}]},
            [{"type": "tool_call", "id": "c2", "name": "f", "arguments": "not json"}],
        ),
        (
            {"content": "ignored", "tool_responses": [{"tool_call_id": "c1", "content": "r"}]},
            [{"type": "tool_call_response", "id": "c1", "response": "r"}],
        ),
        (
            {"content": [{"type": "text", "text": "a"}, 7]},
            [{"type": "text", "content": "a"}, {"type": "text", "content": "7"}],
        ),
        (
            {"content": [{"type": "image_url", "image_url": {"url": "u"}}, {"type": "image_url", "image_url": "v"}]},
            [
                {"type": "uri", "modality": "image", "uri": "u", "mime_type": None},
                {"type": "uri", "modality": "image", "uri": "v", "mime_type": None},
            ],
        ),
        (
            {"content": [{"type": "input_audio", "input_audio": {"data": "AAAA"}}, {"url": "v"}, "x"]},
            [{"type": "text", "content": "x"}],
        ),
    ],
    ids=[
        "none",
        "string",
        "text",
        "empty",
        "tool-response",
        "tool-call",
        "tool-call-bad-json",
        "tool-responses",
        "parts",
        "images",
        "unknown-parts-left-out",
    ],
)
def test_message_parts(message, parts):
    assert [asdict(part) for part in message_parts(message)] == parts


def test_a_message_keeps_its_role_or_takes_the_default():
    assert input_message({"role": "system", "content": "x"}).role == "system"
    assert input_message("x", "assistant").role == "assistant"


def test_a_message_names_the_agent_that_sent_it_where_util_genai_messages_have_names():
    named = "name" in {field.name for field in fields(InputMessage)}
    speaker = {"name": "tech_agent"} if named else {}
    said = {"role": "user", "name": "tech_agent", "content": "Use gdb."}
    assert json.loads(messages_json([said])) == [
        {"role": "user", "parts": [{"type": "text", "content": "Use gdb."}]} | speaker
    ]
    assert json.loads(output_json(said | {"role": "assistant"}))[0].get("name") == speaker.get("name")
    tool_result = {"role": "tool", "name": "weather", "tool_call_id": "c1", "content": "sunny"}
    function_call = {"role": "function", "name": "weather", "content": "sunny"}
    assert all("name" not in json.loads(messages_json([m]))[0] for m in (tool_result, function_call, "plain"))


def test_serialisers_give_the_conventions_json():
    assert json.loads(messages_json(["hi"])) == [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    out = json.loads(output_json("done", "stop"))
    assert out == [{"role": "assistant", "parts": [{"type": "text", "content": "done"}], "finish_reason": "stop"}]
    assert as_text("as is") == "as is"
    assert as_text({"a": 1}) == '{"a": 1}'


REQUIRED_PART_FIELDS = {
    "text": {"content"},
    "tool_call": {"name"},
    "tool_call_response": {"response"},
    "uri": {"modality", "uri"},
}
"""What the GenAI conventions' message JSON schemas require of each part type besides ``type``."""


def conforms(messages: list, output: bool) -> bool:
    """Whether messages have what the conventions' input/output message schemas require."""
    for message in messages:
        required = {"role", "parts", "finish_reason"} if output else {"role", "parts"}
        if not required <= message.keys() or not isinstance(message["parts"], list):
            return False
        for part in message["parts"]:
            kind = part.get("type")
            if not isinstance(kind, str) or not REQUIRED_PART_FIELDS.get(kind, set()) <= part.keys():
                return False
    return True


@pytest.mark.parametrize(
    "message",
    [
        "plain",
        {"role": "assistant", "content": "x"},
        {"content": [{"type": "text", "text": "a"}, {"image_url": {"url": "u"}}]},
        {"tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
    ],
)
def test_messages_conform_to_the_conventions_schemas(message):
    assert conforms(json.loads(messages_json([message])), output=False)
    output = json.loads(output_json(message))
    assert conforms(output, output=True)
    calls_tools = isinstance(message, dict) and "tool_calls" in message
    assert output[0]["finish_reason"] == ("tool_call" if calls_tools else "stop")
    assert json.loads(output_json(message, "length"))[0]["finish_reason"] == "length"


def test_a_value_that_cannot_be_serialised_gives_none_not_an_exception():
    assert as_text({"a": Unprintable()}) is None
    assert messages_json([{"content": [Unprintable()]}]) is None
    assert output_json({"content": [{"type": "image_url", "image_url": {"url": Unprintable()}}]}) is None


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        (None, ContentCapturingMode.NO_CONTENT),
        ("SPAN_ONLY", ContentCapturingMode.SPAN_ONLY),
        ("event_only", ContentCapturingMode.EVENT_ONLY),
        ("SPAN_AND_EVENT", ContentCapturingMode.SPAN_AND_EVENT),
        ("true", ContentCapturingMode.SPAN_AND_EVENT),
        (True, ContentCapturingMode.SPAN_AND_EVENT),
        ("false", ContentCapturingMode.NO_CONTENT),
        (False, ContentCapturingMode.NO_CONTENT),
    ],
)
def test_capture_modes(value, mode):
    assert parse_capture_mode(value) is mode


def test_an_unknown_capture_mode_is_no_content_with_a_warning_naming_where_it_came_from(caplog, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "everything please")
    assert Settings.from_env().capture_mode is ContentCapturingMode.NO_CONTENT
    assert Settings.from_env("all of it").capture_mode is ContentCapturingMode.NO_CONTENT
    first, second = (record.getMessage() for record in caplog.records)
    assert "'everything please' is not a valid OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT" in first
    assert "'all of it' is not a valid instrument(capture_message_content=...)" in second


def test_usage_rolls_up_into_every_enclosing_conversation_and_cost_only_when_reported():
    outer = Usage()
    token = context.attach(context.set_value(USAGE, outer))
    try:
        inner = new_usage()
    finally:
        context.detach(token)
    inner.add(10, 2, None)
    inner.add(5, 1, 0.25)
    assert (inner.calls, inner.input_tokens, inner.output_tokens, inner.cost) == (2, 15, 3, 0.25)
    assert (outer.calls, outer.input_tokens, outer.output_tokens, outer.cost) == (2, 15, 3, 0.25)
    no_cost = Usage()
    no_cost.add(1, 1, None)
    written: dict = {}
    no_cost.write(type("Span", (), {"set_attributes": lambda self, attributes: written.update(attributes)})())
    assert written == {"gen_ai.usage.input_tokens": 1, "gen_ai.usage.output_tokens": 1}


def test_error_type_is_the_qualified_type_builtins_unqualified():
    assert fq_exception_type(ValueError()) == "ValueError"
    custom = type("Custom", (Exception,), {"__module__": "app.errors"})
    assert fq_exception_type(custom()) == "app.errors.Custom"


def module_function() -> str:
    return "plain"


def test_a_patched_function_copies_as_itself_and_pickles_as_the_function_it_wraps():
    wrapper = PatchedFunction(module_function, lambda wrapped, instance, args, kwargs: wrapped(*args, **kwargs))
    assert copy.copy(wrapper) is wrapper
    assert copy.deepcopy({"f": wrapper})["f"] is wrapper
    assert pickle.loads(pickle.dumps(wrapper)) is module_function
    assert original_function(__name__, "module_function") is module_function
    assert wrapper() == "plain"
