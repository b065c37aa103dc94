"""Metrics and content events: names, units, buckets, attributes and counts; the capture modes end to end."""

from __future__ import annotations

import json

import openai
import pytest
from autogen import register_function

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from opentelemetry_instrumentation_ag2.signals import AGENT_DURATION_BUCKETS, DURATION_BUCKETS, TOKEN_BUCKETS

from .agents_app import QUESTION, build_agents
from .conftest import by_name

pytestmark = pytest.mark.timeout(60)


def metrics_by_name(metric_reader) -> dict:
    data = metric_reader.get_metrics_data()
    found = {}
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            if scope_metrics.scope.name == "opentelemetry_instrumentation_ag2":
                found.update({metric.name: metric for metric in scope_metrics.metrics})
    return found


def count(metric) -> int:
    return sum(point.count for point in metric.data.data_points)


def three_llm_calls(llm, max_turns: int = 3) -> None:
    llm.push("one", "two", "three")
    user_proxy, tech_agent = build_agents(llm.base_url)
    user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=max_turns)


def test_metrics_of_a_known_conversation(instrument, span_exporter, metric_reader, llm):
    three_llm_calls(llm)
    metrics = metrics_by_name(metric_reader)

    duration = metrics["gen_ai.client.operation.duration"]
    assert duration.unit == "s"
    assert count(duration) == 3
    (point,) = duration.data.data_points
    assert list(point.explicit_bounds) == list(DURATION_BUCKETS)
    assert dict(point.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini",
        "server.address": "127.0.0.1",
        "server.port": llm.port,
        "gen_ai.agent.name": "tech_agent",
    }

    tokens = metrics["gen_ai.client.token.usage"]
    assert tokens.unit == "{token}"
    assert count(tokens) == 6
    by_type = {point.attributes["gen_ai.token.type"]: point for point in tokens.data.data_points}
    assert set(by_type) == {"input", "output"}
    assert by_type["output"].sum == 15 and by_type["output"].count == 3
    assert list(by_type["input"].explicit_bounds) == list(TOKEN_BUCKETS)
    spans = span_exporter.get_finished_spans()
    assert by_type["input"].sum == sum(
        s.attributes["gen_ai.usage.input_tokens"] for s in by_name(spans, "chat gpt-4o-mini")
    )

    turns = metrics["gen_ai.invoke_agent.duration"]
    assert count(turns) == len([s for s in spans if s.name.startswith("invoke_agent")])
    assert {p.attributes["gen_ai.agent.name"] for p in turns.data.data_points} == {"tech_agent", "user_proxy"}
    assert list(turns.data.data_points[0].explicit_bounds) == list(AGENT_DURATION_BUCKETS)

    (conversation,) = by_name(spans, "conversation user_proxy")
    assert conversation.attributes["gen_ai.usage.output_tokens"] == 15
    assert conversation.attributes["gen_ai.usage.input_tokens"] == by_type["input"].sum


def test_answers_from_the_response_cache_spend_no_tokens(instrument, span_exporter, metric_reader, llm, tmp_path):
    """A chat answered from AG2's cache says so on its span and adds to neither the token metric nor the
    conversation's roll-up: only what the model really spent is counted."""
    from autogen.cache import Cache

    cache = Cache.disk(cache_seed=str(tmp_path.name), cache_path_root=str(tmp_path))
    llm.push("one", "two")
    user_proxy, tech_agent = build_agents(llm.base_url)
    for _ in range(2):  # the second chat asks the same questions: the cache answers
        user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=2, cache=cache)
    assert len(llm.requests) == 2

    spans = span_exporter.get_finished_spans()
    chats = by_name(spans, "chat gpt-4o-mini")
    assert [chat.attributes["ag2.cache.hit"] for chat in chats] == [False, False, True, True]
    assert all(chat.attributes["gen_ai.usage.output_tokens"] == 5 for chat in chats)
    first, second = by_name(spans, "conversation user_proxy")
    assert first.attributes["gen_ai.usage.output_tokens"] == 10
    assert "gen_ai.usage.output_tokens" not in second.attributes

    metrics = metrics_by_name(metric_reader)
    assert count(metrics["gen_ai.client.token.usage"]) == 4  # input and output of the two real calls
    assert count(metrics["gen_ai.client.operation.duration"]) == 4


def test_a_chat_without_a_cache_says_nothing_of_one(instrument, span_exporter, llm):
    three_llm_calls(llm, max_turns=1)
    (chat,) = by_name(span_exporter.get_finished_spans(), "chat gpt-4o-mini")
    assert "ag2.cache.hit" not in chat.attributes


def test_failed_operations_carry_error_type(instrument, metric_reader, llm):
    llm.push({"status": 500})
    user_proxy, tech_agent = build_agents(llm.base_url)
    with pytest.raises(openai.InternalServerError):
        user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=1)
    metrics = metrics_by_name(metric_reader)
    (point,) = metrics["gen_ai.client.operation.duration"].data.data_points
    assert point.attributes["error.type"] == "openai.InternalServerError"
    assert "gen_ai.client.token.usage" not in metrics
    errors = {p.attributes.get("error.type") for p in metrics["gen_ai.invoke_agent.duration"].data.data_points}
    assert "openai.InternalServerError" in errors


def test_tool_duration(instrument, metric_reader, llm):
    llm.push({"tool_calls": [{"name": "lookup", "arguments": {"key": "a"}}]}, "done")
    user_proxy, tech_agent = build_agents(llm.base_url)

    def lookup(key: str) -> str:
        return key.upper()

    register_function(lookup, caller=tech_agent, executor=user_proxy, description="Look up a key")
    user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=2)
    (point,) = metrics_by_name(metric_reader)["gen_ai.execute_tool.duration"].data.data_points
    assert point.count == 1
    assert dict(point.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "lookup",
        "gen_ai.tool.type": "function",
    }


def instrument_with(mode: str | None, tracer_provider, meter_provider, logger_provider) -> AG2Instrumentor:
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
        capture_message_content=mode,
    )
    return instrumentor


@pytest.mark.parametrize("mode", ["EVENT_ONLY", "SPAN_AND_EVENT"])
def test_content_events(tracer_provider, meter_provider, logger_provider, log_exporter, span_exporter, llm, mode):
    instrumentor = instrument_with(mode, tracer_provider, meter_provider, logger_provider)
    try:
        three_llm_calls(llm, max_turns=1)
    finally:
        instrumentor.uninstrument()
    spans = span_exporter.get_finished_spans()
    (chat,) = by_name(spans, "chat gpt-4o-mini")
    records = [data.log_record for data in log_exporter.get_finished_logs()]
    (inference,) = [r for r in records if r.event_name == "gen_ai.client.inference.operation.details"]
    assert json.loads(inference.attributes["gen_ai.input.messages"])[0]["parts"][0]["content"] == QUESTION
    assert json.loads(inference.attributes["gen_ai.output.messages"])[0]["parts"][0]["content"] == "one"
    assert inference.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert (inference.trace_id, inference.span_id) == (chat.context.trace_id, chat.context.span_id)
    assert {r.event_name for r in records} >= {"ag2.invoke_agent.details", "ag2.conversation.details"}
    on_spans = "gen_ai.input.messages" in chat.attributes
    assert on_spans is (mode == "SPAN_AND_EVENT")


def test_no_content_leaks_anywhere(
    tracer_provider, meter_provider, logger_provider, log_exporter, metric_reader, span_exporter, llm, monkeypatch
):
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    instrumentor = instrument_with(None, tracer_provider, meter_provider, logger_provider)
    secret_answer = "secret-answer-31337"
    llm.push(secret_answer)
    try:
        user_proxy, tech_agent = build_agents(llm.base_url)
        user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=1)
    finally:
        instrumentor.uninstrument()
    exported = [repr(span.to_json()) for span in span_exporter.get_finished_spans()]
    exported += [repr(data.log_record.to_json()) for data in log_exporter.get_finished_logs()]
    exported.append(metric_reader.get_metrics_data().to_json())
    dump = "\n".join(exported)
    assert "chat gpt-4o-mini" in dump
    assert QUESTION not in dump and secret_answer not in dump
    assert "You solve technical problems" not in dump  # the system prompt
    assert log_exporter.get_finished_logs() == ()
