"""Hostile input on the classic line: requests, exceptions, settings and names that must not change the app
or lose telemetry."""

from __future__ import annotations

import asyncio
import builtins
import logging
from typing import Any

import pytest
from autogen import ConversableAgent
from autogen.a2a import A2aRemoteAgent
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from tests.support.hostile import DEEPLY_NESTED_BODY, UNENCODABLE_NAME, UnprintableError, answer, otlp_payload

from .a2a_support import serve_agent
from .agents_app import build_agents
from .conftest import by_name

pytestmark = pytest.mark.timeout(90)


def _quiet_agent(name: str) -> ConversableAgent:
    return ConversableAgent(name, llm_config=False, human_input_mode="NEVER", default_auto_reply="ok")


def test_a_deeply_nested_body_gets_the_same_answer_as_uninstrumented(tracer_provider, span_exporter):
    with serve_agent(_quiet_agent("tech_agent")) as url:
        uninstrumented = answer(url, DEEPLY_NESTED_BODY)
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        with serve_agent(_quiet_agent("tech_agent")) as url:
            instrumented = answer(url, DEEPLY_NESTED_BODY)
    finally:
        instrumentor.uninstrument()
    assert instrumented == uninstrumented
    (execution,) = span_exporter.wait_for(lambda spans: by_name(spans, "a2a-execution"))
    assert execution.attributes["http.response.status_code"] == uninstrumented[0]


class UnprintableClient:
    """A custom model client (AG2's ``register_model_client``) whose every call raises ``UnprintableError``."""

    def __init__(self, config: Any, **kwargs: Any) -> None:
        pass

    def create(self, params: Any) -> Any:
        raise UnprintableError()

    def message_retrieval(self, response: Any) -> list:
        return []

    def cost(self, response: Any) -> float:
        return 0.0

    @staticmethod
    def get_usage(response: Any) -> dict:
        return {}


def _unprintable_model_agent() -> ConversableAgent:
    config = {"config_list": [{"model": "gpt-custom", "model_client_cls": "UnprintableClient"}], "cache_seed": None}
    agent = ConversableAgent("tech_agent", llm_config=config, human_input_mode="NEVER")
    agent.register_model_client(UnprintableClient)
    return agent


def test_an_llm_error_whose_message_cannot_be_read_is_recorded(instrument, span_exporter):
    tech_agent = _unprintable_model_agent()
    with pytest.raises(UnprintableError):
        _quiet_agent("user_proxy").initiate_chat(tech_agent, message="hi", max_turns=1)
    spans = span_exporter.get_finished_spans()
    for name in ("chat gpt-custom", "invoke_agent tech_agent", "conversation user_proxy"):
        (span,) = by_name(spans, name)
        assert span.status.status_code is StatusCode.ERROR, name
        assert span.attributes["error.type"] == f"{UnprintableError.__module__}.UnprintableError", name
    (chat,) = by_name(spans, "chat gpt-custom")
    (event,) = chat.events
    assert event.attributes["exception.message"] == "<unprintable UnprintableError object>"


def test_a_served_agent_failing_with_an_unreadable_message_marks_its_request_failed(instrument, span_exporter):
    remote = "tech_agent"
    with serve_agent(_unprintable_model_agent(), streaming=False) as url, pytest.raises(Exception) as raised:
        asyncio.run(
            _quiet_agent("user_proxy").a_initiate_chat(A2aRemoteAgent(url, name=remote), message="hi", max_turns=1)
        )
    spans = span_exporter.wait_for(lambda spans: any(s.attributes.get("a2a.task.id") for s in spans))
    (call,) = [s for s in by_name(spans, f"invoke_agent {remote}") if s.kind is SpanKind.CLIENT]
    assert call.attributes["error.type"].endswith(type(raised.value).__name__)  # what the caller got
    (execution,) = [s for s in by_name(spans, "a2a-execution") if s.attributes.get("a2a.task.id")]
    served_turn = [s for s in by_name(spans, f"invoke_agent {remote}") if s.kind is SpanKind.INTERNAL]
    for span in (execution, *served_turn):  # failed with what AG2's executor raised in the model's error's place
        assert span.status.status_code is StatusCode.ERROR, span.name
        assert span.attributes["error.type"], span.name
    (chat,) = by_name(spans, "chat gpt-custom")
    assert chat.status.status_code is StatusCode.ERROR
    assert chat.attributes["error.type"] == f"{UnprintableError.__module__}.UnprintableError"


@pytest.mark.parametrize("value", [1, 2.5, object(), ["span_only"], b"SPAN_ONLY"], ids=repr)
def test_any_capture_setting_falls_back_to_no_content_with_a_warning(
    tracer_provider, span_exporter, llm, value, caplog
):
    llm.push("Hello there.")
    instrumentor = AG2Instrumentor()
    with caplog.at_level(logging.WARNING):
        instrumentor.instrument(tracer_provider=tracer_provider, capture_message_content=value)
    try:
        user_proxy, tech_agent = build_agents(llm.base_url)
        user_proxy.initiate_chat(tech_agent, message="hi", max_turns=1)
    finally:
        instrumentor.uninstrument()
    assert "not a valid instrument(capture_message_content=...)" in caplog.text
    spans = span_exporter.get_finished_spans()
    assert by_name(spans, "chat gpt-4o-mini")
    assert not [key for span in spans for key in span.attributes if key.startswith("gen_ai.input")]


def test_an_unencodable_agent_name_loses_no_span_in_otlp(instrument, span_exporter, llm):
    llm.push("Hello there.")
    user_proxy, tech_agent = build_agents(llm.base_url)
    tech_agent._name = UNENCODABLE_NAME  # as a name read from non-UTF-8 bytes would be
    user_proxy.initiate_chat(tech_agent, message="hi", max_turns=1)
    spans = span_exporter.get_finished_spans()
    assert otlp_payload(spans)  # the OTLP encoder takes the whole batch
    assert "invoke_agent agent_\ufffd" in [s.name for s in spans]


def test_an_agent_without_a_name_gives_the_operation_alone_as_span_name(instrument, span_exporter, monkeypatch):
    monkeypatch.setattr(builtins, "input", lambda prompt="": "exit")
    nameless = ConversableAgent("", llm_config=False, human_input_mode="ALWAYS")
    nameless.initiate_chat(_quiet_agent("helper"), message="hi", max_turns=2)
    names = {span.name for span in span_exporter.get_finished_spans()}
    assert {"conversation", "await_human_input", "invoke_agent"} <= names
    assert not [name for name in names if name != name.strip()]
