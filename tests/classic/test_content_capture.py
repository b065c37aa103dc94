"""Privacy by default: no content leaves the process unless capture is switched on."""

from __future__ import annotations

import builtins
import json
from dataclasses import fields

import pytest
from autogen import register_function
from opentelemetry.util.genai.types import InputMessage

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from opentelemetry_instrumentation_ag2.config import Settings, parse_capture_mode

from .agents_app import build_agents
from .conftest import by_name

pytestmark = pytest.mark.timeout(60)

SECRET_QUESTION = "my-secret-question-1234"
SECRET_ANSWER = "my-secret-answer-5678"
SECRET_ARGUMENT = "secret-city-9999"
SECRET_RESULT = "secret-weather-0000"
SECRET_HUMAN = "secret-human-4242"
SECRETS = (SECRET_QUESTION, SECRET_ANSWER, SECRET_ARGUMENT, SECRET_RESULT, SECRET_HUMAN)


def run_secret_chat(llm, monkeypatch) -> None:
    llm.push({"tool_calls": [{"name": "weather", "arguments": {"city": SECRET_ARGUMENT}}]}, SECRET_ANSWER)
    answers = iter(["", SECRET_HUMAN])  # first let the tool run, then speak
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(answers, "exit"))
    user_proxy, tech_agent = build_agents(llm.base_url)
    user_proxy.human_input_mode = "ALWAYS"

    def weather(city: str) -> str:
        return SECRET_RESULT

    register_function(weather, caller=tech_agent, executor=user_proxy, description="weather")
    user_proxy.initiate_chat(tech_agent, message=SECRET_QUESTION, max_turns=3)


def exported_strings(spans) -> str:
    dump = []
    for span in spans:
        dump.append(span.name)
        dump.extend(str(value) for value in span.attributes.values())
        dump.extend(str(event.attributes) for event in span.events)
    return "\n".join(dump)


@pytest.mark.parametrize("env_value", [None, "", "NO_CONTENT", "false", "EVENT_ONLY", "nonsense"])
def test_no_content_on_spans_by_default(tracer_provider, span_exporter, llm, monkeypatch, env_value):
    if env_value is None:
        monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    else:
        monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", env_value)
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        run_secret_chat(llm, monkeypatch)
    finally:
        instrumentor.uninstrument()
    spans = span_exporter.get_finished_spans()
    assert by_name(spans, "execute_tool weather")
    dump = exported_strings(spans)
    for secret in SECRETS:
        assert secret not in dump
    assert not any(key.startswith("gen_ai.input") for span in spans for key in span.attributes)


def sender(name: str) -> dict[str, str]:
    """A message's ``name``: the agent that sent it, where the installed util-genai's messages have names."""
    return {"name": name} if "name" in {field.name for field in fields(InputMessage)} else {}


@pytest.mark.parametrize(("env_value", "keyword"), [("SPAN_ONLY", None), ("true", None), (None, "SPAN_AND_EVENT")])
def test_content_when_switched_on(tracer_provider, span_exporter, llm, monkeypatch, env_value, keyword):
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    if env_value:
        monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", env_value)
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, capture_message_content=keyword)
    try:
        run_secret_chat(llm, monkeypatch)
    finally:
        instrumentor.uninstrument()
    spans = span_exporter.get_finished_spans()
    first, chat = by_name(spans, "chat gpt-4o-mini")[:2]
    # each call carries what is new since the model last spoke; the system prompt on its own
    assert json.loads(first.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": SECRET_QUESTION}]} | sender("user_proxy")
    ]
    assert json.loads(first.attributes["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "You solve technical problems. Provide clear, actionable solutions."}
    ]
    assert json.loads(first.attributes["gen_ai.tool.definitions"])[0]["function"]["name"] == "weather"
    assert json.loads(first.attributes["gen_ai.tool.definitions"]) == llm.requests[0]["tools"]  # what was sent
    assert json.loads(chat.attributes["gen_ai.input.messages"]) == [
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": SECRET_RESULT}]}
    ]
    outputs = json.loads(chat.attributes["gen_ai.output.messages"])
    assert outputs == [
        {"role": "assistant", "parts": [{"type": "text", "content": SECRET_ANSWER}], "finish_reason": "stop"}
    ]
    (tool,) = by_name(spans, "execute_tool weather")
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == {"city": SECRET_ARGUMENT}
    assert tool.attributes["gen_ai.tool.call.result"] == SECRET_RESULT
    human = by_name(spans, "await_human_input user_proxy")
    assert [h.attributes["ag2.human_input.response"] for h in human] == ["", SECRET_HUMAN]
    (conversation,) = by_name(spans, "conversation user_proxy")
    assert SECRET_QUESTION in conversation.attributes["gen_ai.input.messages"]


def test_keyword_overrides_environment(tracer_provider, span_exporter, llm, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, capture_message_content="NO_CONTENT")
    try:
        run_secret_chat(llm, monkeypatch)
    finally:
        instrumentor.uninstrument()
    dump = exported_strings(span_exporter.get_finished_spans())
    assert not any(secret in dump for secret in SECRETS)


@pytest.mark.parametrize(
    ("raw", "spans", "events"),
    [
        (None, False, False),
        ("NO_CONTENT", False, False),
        ("span_only", True, False),
        ("EVENT_ONLY", False, True),
        ("SPAN_AND_EVENT", True, True),
        ("True", True, True),
        ("false", False, False),
        ("bogus", False, False),
        (True, True, True),
    ],
)
def test_capture_modes(raw, spans, events):
    settings = Settings(parse_capture_mode(raw))
    assert (settings.content_on_spans, settings.content_in_events) == (spans, events)
