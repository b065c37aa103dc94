"""Coexistence: openai-v2 and httpx instrumentations, and AG2's own ``autogen.opentelemetry``, never double a span."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from autogen.oai.client import OpenAIWrapper
from opentelemetry.trace import SpanKind

from opentelemetry_instrumentation_ag2 import AG2Instrumentor

from .agents_app import QUESTION, build_agents
from .conftest import by_name, parent_of

pytestmark = pytest.mark.timeout(60)

REPLIES = ("Run it under gdb.", "Then read the backtrace.")


def seed_chat(llm) -> None:
    llm.push(*REPLIES)
    user_proxy, tech_agent = build_agents(llm.base_url)
    user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=2)


def test_openai_v2_and_httpx_too_one_llm_span_per_call(instrument, tracer_provider, span_exporter, llm):
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    openai_v2, httpx = OpenAIInstrumentor(), HTTPXClientInstrumentor()
    openai_v2.instrument(tracer_provider=tracer_provider)
    httpx.instrument(tracer_provider=tracer_provider)
    try:
        seed_chat(llm)
    finally:
        openai_v2.uninstrument()
        httpx.uninstrument()
    spans = span_exporter.get_finished_spans()
    chats = by_name(spans, "chat gpt-4o-mini")
    assert len(chats) == len(llm.requests) == 2
    for chat in chats:
        assert chat.kind is SpanKind.CLIENT
        assert parent_of(chat, spans).name == "invoke_agent tech_agent"
        (http_call,) = [s for s in spans if parent_of(s, spans) is chat]
        assert http_call.name == "POST" and http_call.kind is SpanKind.CLIENT
    assert len({s.context.trace_id for s in spans}) == 1
    # the roll-up still counts the calls openai-v2 traced
    (conversation,) = by_name(spans, "conversation user_proxy")
    assert conversation.attributes["gen_ai.usage.output_tokens"] == 10


def test_openai_v2_too_cached_answers_are_not_rolled_up(instrument, tracer_provider, span_exporter, llm, tmp_path):
    from autogen.cache import Cache
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    cache = Cache.disk(cache_seed=str(tmp_path.name), cache_path_root=str(tmp_path))
    llm.push(*REPLIES)
    user_proxy, tech_agent = build_agents(llm.base_url)
    openai_v2 = OpenAIInstrumentor()
    openai_v2.instrument(tracer_provider=tracer_provider)
    try:
        for _ in range(2):  # the second chat is answered from the cache
            user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=2, cache=cache)
    finally:
        openai_v2.uninstrument()
    assert len(llm.requests) == 2
    first, second = by_name(span_exporter.get_finished_spans(), "conversation user_proxy")
    assert first.attributes["gen_ai.usage.output_tokens"] == 10
    assert "gen_ai.usage.output_tokens" not in second.attributes


def ag2_own_tracing(tracer_provider, user_proxy, tech_agent) -> None:
    from autogen.opentelemetry import instrument_agent, instrument_llm_wrapper

    instrument_llm_wrapper(tracer_provider=tracer_provider)
    instrument_agent(user_proxy, tracer_provider=tracer_provider)
    instrument_agent(tech_agent, tracer_provider=tracer_provider)


def operations(spans) -> Counter:
    return Counter(span.name for span in spans)


@pytest.mark.parametrize("ours_first", [True, False], ids=["ours-first", "ag2-first"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_with_ag2_own_tracing_no_span_twice(tracer_provider, span_exporter, llm, monkeypatch, ours_first, is_async):
    # AG2's helper replaces OpenAIWrapper.create for good: put the class back after the test
    monkeypatch.setattr(OpenAIWrapper, "create", OpenAIWrapper.create)
    llm.push(*REPLIES)
    user_proxy, tech_agent = build_agents(llm.base_url)
    instrumentor = AG2Instrumentor()
    if ours_first:
        instrumentor.instrument(tracer_provider=tracer_provider)
        ag2_own_tracing(tracer_provider, user_proxy, tech_agent)
    else:
        ag2_own_tracing(tracer_provider, user_proxy, tech_agent)
        instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        if is_async:
            asyncio.run(user_proxy.a_initiate_chat(tech_agent, message=QUESTION, max_turns=2))
        else:
            user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=2)
    finally:
        instrumentor.uninstrument()
    counts = operations(span_exporter.get_finished_spans())
    assert counts["conversation user_proxy"] == 1
    assert counts["chat gpt-4o-mini"] == 2
    assert counts["invoke_agent tech_agent"] == 2
    assert counts["invoke_agent user_proxy"] == 1
