"""Reliability: concurrency, hostile input, broken telemetry, instrument cycles, faults — the app never notices us."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
import threading
import tracemalloc
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from autogen import ConversableAgent
from autogen.a2a import A2aRemoteAgent
from autogen.agentchat import conversable_agent
from autogen.oai.client import OpenAIWrapper
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry import context, propagate, trace
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from opentelemetry_instrumentation_ag2.classic.agents import AgentSpans
from opentelemetry_instrumentation_ag2.content import messages_json
from tests.support.fixtures import SpanCollector
from tests.support.processes import EXAMPLES, background

from .a2a_support import serve_agent
from .agents_app import QUESTION, build_agents, llm_config
from .conftest import by_name, parent_of

pytestmark = pytest.mark.timeout(180)


class StartedEnded(SpanProcessor):
    """Counts spans started and ended: every span we start must end, whatever happens."""

    def __init__(self) -> None:
        self.started = 0
        self.ended = 0
        self._lock = threading.Lock()

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        with self._lock:
            self.started += 1

    def on_end(self, span: Any) -> None:
        with self._lock:
            self.ended += 1


@pytest.fixture
def accounting(tracer_provider: TracerProvider) -> StartedEnded:
    processor = StartedEnded()
    tracer_provider.add_span_processor(processor)
    return processor


def test_fifty_concurrent_conversations_against_one_server(instrument, span_exporter, llm, accounting):
    llm.default = lambda request: f"answer to {request['messages'][-1]['content']}"
    tech_agent = ConversableAgent("tech_agent", llm_config=llm_config(llm.base_url), human_input_mode="NEVER")

    async def one(index: int) -> Any:
        user = ConversableAgent(f"user_{index}", human_input_mode="NEVER", llm_config=False)
        return await user.a_initiate_chat(A2aRemoteAgent(url, name="tech_agent"), message=f"q{index}", max_turns=1)

    async def all_of_them() -> list[Any]:
        return await asyncio.gather(*(one(index) for index in range(50)))

    with serve_agent(tech_agent) as url:
        results = asyncio.run(all_of_them())
        spans = span_exporter.wait_for(lambda spans: len(by_name(spans, "a2a-execution")) == 100, timeout=60)
    assert [r.chat_history[-1]["content"] for r in results] == [f"answer to q{i}" for i in range(50)]

    traces: dict[int, list] = defaultdict(list)
    for span in spans:
        traces[span.context.trace_id].append(span)
    assert len(traces) == 50
    for trace_spans in traces.values():
        (root,) = [s for s in trace_spans if s.parent is None]
        assert root.name.startswith("conversation user_")
        (call,) = [s for s in trace_spans if s.kind is SpanKind.CLIENT and s.name == "invoke_agent tech_agent"]
        executions = [s for s in trace_spans if s.name == "a2a-execution"]
        assert len(executions) == 2 and all(parent_of(s, trace_spans) is call for s in executions)
        (served,) = by_name(trace_spans, "conversation tech_agent")
        assert served.attributes["gen_ai.conversation.id"] == call.attributes["a2a.context.id"]
        (llm_call,) = by_name(trace_spans, "chat gpt-4o-mini")
        assert parent_of(parent_of(llm_call, trace_spans), trace_spans) is served
    assert accounting.started == accounting.ended == len(spans)


HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FFF, exclude_categories=("Cs", "Cc")), max_size=600
).map(str.strip)
VALID_TRACEPARENT = st.builds(
    lambda trace_id, span_id, flags: f"00-{trace_id:032x}-{span_id:016x}-{flags:02x}",
    st.integers(1, 2**128 - 1),
    st.integers(1, 2**64 - 1),
    st.integers(0, 255),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    traceparents=st.lists(st.one_of(HEADER_TEXT, VALID_TRACEPARENT), min_size=1, max_size=3),
    tracestate=HEADER_TEXT,
    baggage=HEADER_TEXT,
)
def test_hostile_trace_headers(hostile_server, traceparents, tracestate, baggage):
    url, exporter = hostile_server
    exporter.clear()
    headers = [("traceparent", value.encode()) for value in traceparents]
    headers += [("tracestate", tracestate.encode()), ("baggage", baggage.encode())]
    response = httpx.get(url + ".well-known/agent-card.json", headers=headers, timeout=10)
    assert response.status_code == 200
    # the oracle: what the W3C propagator itself makes of the same headers
    carrier = {"traceparent": traceparents, "tracestate": [tracestate], "baggage": [baggage]}
    parent = trace.get_current_span(propagate.extract(carrier, context=context.Context())).get_span_context()
    if parent.is_valid and not parent.trace_flags.sampled:
        return  # the caller decided not to sample: no span is recorded, the request still succeeds
    (execution,) = exporter.wait_for(lambda spans: len(by_name(spans, "a2a-execution")) == 1)
    if parent.is_valid:
        assert execution.parent is not None
        assert (execution.parent.trace_id, execution.parent.span_id) == (parent.trace_id, parent.span_id)
    else:
        assert execution.parent is None


@pytest.fixture
def hostile_server(instrument, span_exporter, llm):
    tech_agent = ConversableAgent("tech_agent", llm_config=llm_config(llm.base_url), human_input_mode="NEVER")
    with serve_agent(tech_agent) as url:
        yield url, span_exporter


@pytest.mark.parametrize(
    "target",
    [
        (AgentSpans, "agent_turn"),
        (AgentSpans, "conversation"),
        (AgentSpans, "reply"),
        (AgentSpans, "conversation_result"),
    ],
    ids=lambda target: target[1],
)
def test_failure_inside_telemetry_never_reaches_the_app(tracer_provider, llm, monkeypatch, target):
    def run() -> list[dict]:
        llm.push("Run it under gdb.", "Then read the backtrace.")
        user_proxy, tech_agent = build_agents(llm.base_url)
        return user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=2).chat_history

    baseline = run()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug in an attribute extractor")

    monkeypatch.setattr(*target, broken)
    monkeypatch.setattr("opentelemetry_instrumentation_ag2.classic.agents.messages_json", broken)
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, capture_message_content="SPAN_ONLY")
    try:
        assert run() == baseline
    finally:
        instrumentor.uninstrument()
    assert messages_json  # the real one is back


def test_hundred_instrument_cycles_leave_nothing_behind(tracer_provider, llm):
    targets = [
        (conversable_agent.ConversableAgent, name)
        for name in ("initiate_chat", "a_initiate_chat", "generate_reply", "a_generate_reply", "a_generate_oai_reply")
    ] + [(OpenAIWrapper, "create")]
    originals = [owner.__dict__[name] for owner, name in targets]
    handlers = (len(logging.getLogger().handlers), len(logging.getLogger("opentelemetry_instrumentation_ag2").handlers))
    instrumentor = AG2Instrumentor()

    def cycle() -> None:
        instrumentor.instrument(tracer_provider=tracer_provider)
        instrumentor.uninstrument()

    for _ in range(10):  # warm up caches and lazy imports
        cycle()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(100):
        cycle()
    gc.collect()
    growth = sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    assert growth < 200_000, f"{growth} bytes kept by 100 instrument/uninstrument cycles"
    assert [owner.__dict__[name] for owner, name in targets] == originals
    assert conversable_agent.threading.Thread.__module__ == "threading"
    assert handlers == (
        len(logging.getLogger().handlers),
        len(logging.getLogger("opentelemetry_instrumentation_ag2").handlers),
    )
    llm.push("still fine")
    user_proxy, tech_agent = build_agents(llm.base_url)
    assert user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=1).chat_history[-1]["content"] == (
        "still fine"
    )


@contextlib.contextmanager
def instrumented(provider: TracerProvider) -> Iterator[None]:
    """AG2 instrumented with this provider for the block."""
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield
    finally:
        instrumentor.uninstrument()


def cyclic_garbage(llm, chats: int = 5) -> int:
    """Objects only the cycle collector can free, left by a few chats through the scripted model (after one
    chat to warm caches up)."""

    def chat() -> None:
        llm.push("Run it under gdb.", "Then read the backtrace.")
        user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=2)

    user_proxy, tech_agent = build_agents(llm.base_url)
    chat()
    gc.collect()
    gc.disable()
    try:
        for _ in range(chats):
            chat()
        return gc.collect()
    finally:
        gc.enable()


def test_tracing_leaves_no_cyclic_garbage(tracer_provider, span_exporter, llm):
    """Spans, contexts and wrappers are freed by reference counting: a traced chat leaves the garbage
    collector no more to do than an untraced one (what it does collect is AG2's and the HTTP client's)."""
    untraced = cyclic_garbage(llm)
    with instrumented(tracer_provider):
        traced = cyclic_garbage(llm)
    assert by_name(span_exporter.get_finished_spans(), "chat gpt-4o-mini")
    assert traced == untraced


def outcome(run: Any) -> tuple[type[BaseException] | None, str]:
    """The exception an application's own error handling would catch, and its message."""
    try:
        run()
    except Exception as error:
        return type(error), str(error).split(" at ")[0]
    return None, ""


def instrumented_outcome(run: Any) -> tuple[tuple[type[BaseException] | None, str], Any, StartedEnded]:
    exporter = SpanCollector()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    accounting = StartedEnded()
    provider.add_span_processor(accounting)
    with instrumented(provider):
        result = outcome(run)
    return result, exporter.get_finished_spans(), accounting


def test_server_killed_mid_conversation():
    def run() -> None:
        command = [sys.executable, str(EXAMPLES / "server.py"), "--port", "0"]
        with background(command, env=dict(os.environ, PYTHONUNBUFFERED="1")) as server:
            user = ConversableAgent("user_proxy", human_input_mode="NEVER", llm_config=False)

            def kill_server(agent: Any, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
                server.process.kill()
                server.process.wait(10)
                return False, None

            user.register_reply([ConversableAgent, None], kill_server)
            remote = A2aRemoteAgent(server.url, name="tech_agent")
            asyncio.run(user.a_initiate_chat(remote, message=QUESTION, max_turns=2))

    baseline = outcome(run)
    assert baseline[0] is not None
    result, spans, accounting = instrumented_outcome(run)
    assert result == baseline
    calls = [s for s in spans if s.kind is SpanKind.CLIENT and s.name == "invoke_agent tech_agent"]
    assert [c.status.status_code for c in calls] == [StatusCode.UNSET, StatusCode.ERROR]
    assert calls[1].attributes["error.type"].endswith(baseline[0].__name__)
    assert accounting.started == accounting.ended


@pytest.mark.parametrize("fault", ["timeout", "500", "503"])
def test_llm_faults_same_exception_and_every_span_ended(llm, fault):
    release = threading.Event()

    def slow(request: dict) -> str:
        release.wait(5)  # a model slower than the client's timeout
        return "too late"

    def run() -> None:
        llm.push(slow if fault == "timeout" else {"status": int(fault)})
        user_proxy, _ = build_agents(llm.base_url)
        tech_agent = ConversableAgent(
            "tech_agent",
            llm_config=llm_config(llm.base_url) if fault != "timeout" else _with_timeout(llm.base_url),
            human_input_mode="NEVER",
        )
        user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=1)

    try:
        baseline = outcome(run)
        assert baseline[0] is not None and issubclass(baseline[0], (openai.APIError, TimeoutError))
        result, spans, accounting = instrumented_outcome(run)
    finally:
        release.set()
    assert result == baseline
    (chat,) = by_name(spans, "chat gpt-4o-mini")
    assert chat.status.status_code is StatusCode.ERROR
    assert chat.attributes["error.type"].endswith(baseline[0].__name__)
    assert accounting.started == accounting.ended


def _with_timeout(base_url: str) -> Any:
    from autogen import LLMConfig

    entry = {"api_type": "openai", "model": "gpt-4o-mini", "api_key": "x", "base_url": base_url, "max_retries": 0}
    return LLMConfig(entry | {"timeout": 0.5}, cache_seed=None)
