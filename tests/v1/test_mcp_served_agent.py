"""Zero code, two processes: an AG2 agent served over MCP (``ag2.mcp.MCPServer``) continues its caller's trace.

The server (``tests.v1.mcp_served_agent_app``) runs under ``opentelemetry-instrument`` with no tracing code and
no other instrumentation, exporting real OTLP/gRPC to an in-test receiver. The caller is a plain mcp SDK client
in the test process calling the agent's ``ask`` tool inside a span of its own tracer provider; the mcp SDK 2.x
carries the current W3C context in the request's ``_meta`` (and makes a ``tools/call`` SERVER span of it on the
server); before 2.x the client puts ``traceparent`` in ``_meta`` itself, as an editor does. The served turn
(``invoke_agent`` with its ``chat`` and ``execute_tool`` spans, this package's) must be in the caller's trace,
beneath the request; a malformed ``traceparent`` gives a fresh trace and the uninstrumented answer.

Under mcp 2.x the trace continues by the mcp SDK's own server span; what this package adds is the served turn
(``invoke_agent`` and beneath it), which must hang beneath that span. Under mcp < 2 (ag2 1.0) the SDK makes no
spans and reads no ``_meta``: this package makes the request's SERVER span there, named as mcp 2.x names it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support.hostile import A_TRACE_ID, MALFORMED_TRACEPARENTS
from tests.support.otlp_receiver import ReceivedSpan, TraceReceiver, children, subtree
from tests.support.processes import RunningProcess, instrumented_module, otlp_env
from tests.v1.mcp_served_agent_app import AGENT, ANSWER, TOOL

pytestmark = pytest.mark.timeout(180)

APP_MODULE = "tests.v1.mcp_served_agent_app"
SERVICE = "weather-agent-service"
OUR_SCOPE = "opentelemetry_instrumentation_ag2"
MCP_SCOPE = "mcp-python-sdk"
TURN = f"invoke_agent {AGENT}"
REQUEST = f"tools/call {TOOL}"
MCP_SDK_TRACES = importlib.util.find_spec("mcp.shared._otel") is not None
"""Whether the mcp SDK carries W3C context in ``_meta`` and makes its own client and server spans (2.x)."""
REQUEST_SCOPE = MCP_SCOPE if MCP_SDK_TRACES else OUR_SCOPE
"""Who makes the server's span of a request: the mcp SDK from 2.0, this package before."""


def served_agent(env: dict[str, str], *, traced: bool) -> Iterator[str]:
    """The app's MCP URL, its process under ``opentelemetry-instrument`` when ``traced``; ends it cleanly."""
    command = instrumented_module(APP_MODULE) if traced else [sys.executable, "-m", APP_MODULE]
    with RunningProcess(command, env) as process:
        yield process.wait_for_line("READY ")
        process.finish()


@pytest.fixture(scope="module")
def server(receiver: TraceReceiver) -> Iterator[str]:
    """The served agent under ``opentelemetry-instrument``, exporting to the receiver."""
    yield from served_agent(otlp_env(SERVICE, receiver.grpc_endpoint, httpx_spans=True), traced=True)


@pytest.fixture(scope="module")
def untraced_server() -> Iterator[str]:
    """The same app in a process with no instrumentation at all."""
    yield from served_agent(otlp_env("untraced", "http://127.0.0.1:9"), traced=False)


@pytest.fixture
def caller_spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def caller_tracer(caller_spans: InMemorySpanExporter) -> Iterator[trace.Tracer]:
    """The calling app's own tracer (a test provider, not the global one)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(caller_spans))
    yield provider.get_tracer("the-calling-app")
    provider.shutdown()


def ask(url: str, meta: dict[str, Any] | None = None, within: AbstractContextManager[Any] | None = None) -> Any:
    """Call the agent's tool once over a fresh MCP session, the call (only) ``within`` the given context.

    Before mcp 2.x the SDK sends no context: the current one then goes into ``_meta`` here, as an editor's client
    does. Returns the tool's result as JSON.
    """

    async def call() -> Any:
        async with streamable_http_client(url) as streams, ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            with within or nullcontext():
                call_meta = dict(meta or {})
                if not MCP_SDK_TRACES:
                    propagate.inject(call_meta)
                result = await session.call_tool(TOOL, {"message": "Weather in Paris?"}, meta=call_meta or None)
        return result.model_dump(mode="json")

    return asyncio.run(call())


def served_turn(
    receiver: TraceReceiver, trace_ids: Collection[str] | None = None, not_in: Collection[str] = ()
) -> list[ReceivedSpan]:
    """The served spans of the one trace (among ``trace_ids``, or else not in ``not_in``) holding a whole turn."""

    def whole_turns(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
        return [
            s
            for s in spans
            if s.name == TURN
            and s.service_name == SERVICE
            and (s.trace_id in trace_ids if trace_ids is not None else s.trace_id not in not_in)
            and len(children(s, spans)) >= 3
        ]

    spans = receiver.wait_for(lambda spans: bool(whole_turns(spans)), timeout=60)
    (turn,) = whole_turns(spans)
    return [s for s in spans if s.trace_id == turn.trace_id and s.service_name == SERVICE]


def check_the_turn(turn: ReceivedSpan, spans: list[ReceivedSpan]) -> None:
    """The served turn: ours, INTERNAL, unfailed, with its model calls and its tool call beneath it."""
    assert (turn.scope_name, turn.kind, turn.status_code) == (OUR_SCOPE, "INTERNAL", "UNSET")
    assert [(s.name, s.kind, s.scope_name) for s in children(turn, spans)] == [
        ("chat gpt-test", "CLIENT", OUR_SCOPE),
        ("execute_tool get_weather", "INTERNAL", OUR_SCOPE),
        ("chat gpt-test", "CLIENT", OUR_SCOPE),
    ]


def test_a_served_turn_continues_the_callers_trace_beneath_the_request(
    server: str, receiver: TraceReceiver, caller_tracer: trace.Tracer, caller_spans: InMemorySpanExporter
) -> None:
    caller = caller_tracer.start_span("ask the weather agent", kind=trace.SpanKind.CLIENT)
    caller_context = caller.get_span_context()
    result = ask(server, within=trace.use_span(caller, end_on_exit=True))
    assert [block["text"] for block in result["content"]] == [ANSWER]
    assert not (result.get("isError") or result.get("is_error"))
    (exported,) = caller_spans.get_finished_spans()
    assert exported.context.span_id == caller_context.span_id

    trace_id, caller_id = f"{caller_context.trace_id:032x}", f"{caller_context.span_id:016x}"
    spans = served_turn(receiver, trace_ids={trace_id})
    (turn,) = [s for s in spans if s.name == TURN]
    check_the_turn(turn, spans)
    assert len(subtree(turn, spans)) == 4
    (request,) = [s for s in spans if s.name == REQUEST]
    assert (request.scope_name, request.kind, request.parent_span_id) == (REQUEST_SCOPE, "SERVER", caller_id)
    assert turn.parent_span_id == request.span_id, "the served turn beneath the server's span of the request"
    # the client's call may make more requests in the caller's span (the mcp SDK's ``tools/list``, for the
    # tool's output schema): every served span in the trace is beneath one of them, and they beneath the caller
    ids = {s.span_id for s in spans}
    entries = {(s.kind, s.scope_name, s.parent_span_id) for s in spans if s.parent_span_id not in ids}
    assert entries == {("SERVER", REQUEST_SCOPE, caller_id)}, "nothing of the server's own in the caller's trace"


MALFORMED_META_TRACEPARENTS: dict[str, Any] = {**MALFORMED_TRACEPARENTS, "not a string": 12345}
"""In a JSON ``_meta``, a caller can send a value of any type."""


@pytest.mark.parametrize("name", MALFORMED_META_TRACEPARENTS)
def test_a_malformed_traceparent_gives_a_fresh_trace_and_the_uninstrumented_answer(
    name: str, server: str, untraced_server: str, receiver: TraceReceiver
) -> None:
    meta = {"traceparent": MALFORMED_META_TRACEPARENTS[name]}
    seen = {s.trace_id for s in receiver.spans}
    assert ask(server, meta) == ask(untraced_server, meta)

    spans = served_turn(receiver, not_in=seen)
    (turn,) = [s for s in spans if s.name == TURN]
    check_the_turn(turn, spans)
    assert turn.trace_id not in (A_TRACE_ID, "0" * 32), "a fresh trace"
    root = next(s for s in spans if s.parent_span_id is None)
    assert (root.name, root.kind, root.scope_name) == (REQUEST, "SERVER", REQUEST_SCOPE)
    assert {s.span_id for s in spans} == {s.span_id for s in subtree(root, spans)}
    assert turn.parent_span_id == root.span_id
