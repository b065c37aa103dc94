"""A2A: one trace across client and server, the seed's tree on both sides, propagation, errors, bad input."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from autogen import ConversableAgent
from autogen.a2a import A2aRemoteAgent, HttpxClientFactory, MockClient
from opentelemetry import baggage, context, propagate, trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags, TraceState

from opentelemetry_instrumentation_ag2.classic.a2a_client import _record_tasks
from opentelemetry_instrumentation_ag2.classic.a2a_server import A2AServerMiddleware
from tests.support.asgi_servers import RecordingApp, free_socket
from tests.support.fixtures import SpanCollector
from tests.support.scripted_model import ScriptedLLM

from .a2a_support import serve_agent
from .agents_app import llm_config
from .conftest import by_name, parent_of

pytestmark = pytest.mark.timeout(90)

QUESTION = "My Python app crashes with a segfault on startup. How do I debug this?"


class Served:
    """A tech_agent served over A2A, with the headers of every request it received."""

    def __init__(self, url: str, recorder: RecordingApp, llm: ScriptedLLM) -> None:
        self.url = url
        self.recorder = recorder
        self.llm = llm

    @property
    def port(self) -> int:
        return int(self.url.rstrip("/").rsplit(":", 1)[1])

    def spans(self, exporter: SpanCollector) -> tuple[ReadableSpan, ...]:
        """All spans, once the server has ended the span of every request it received."""
        return exporter.wait_for(lambda spans: len(by_name(spans, "a2a-execution")) >= len(self.recorder.headers))


@pytest.fixture(params=[True, False], ids=["streaming", "polling"])
def served(request: pytest.FixtureRequest, instrument: Any, llm: ScriptedLLM) -> Iterator[Served]:
    tech_agent = ConversableAgent("tech_agent", llm_config=llm_config(llm.base_url), human_input_mode="NEVER")
    recorders: list[RecordingApp] = []

    def record(app: Any) -> RecordingApp:
        recorders.append(RecordingApp(app))
        return recorders[0]

    with serve_agent(tech_agent, streaming=request.param, wrap=record) as url:
        yield Served(url, recorders[0], llm)


def user_proxy() -> ConversableAgent:
    return ConversableAgent("user_proxy", human_input_mode="NEVER", max_consecutive_auto_reply=3, llm_config=False)


def chat(remote: A2aRemoteAgent, max_turns: int = 2) -> Any:
    return asyncio.run(user_proxy().a_initiate_chat(remote, message=QUESTION, max_turns=max_turns))


def children(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if s.parent is not None and s.parent.span_id == span.context.span_id]


def only(found: list[ReadableSpan]) -> ReadableSpan:
    assert len(found) == 1, [s.name for s in found]
    return found[0]


def remote_calls(spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in by_name(spans, "invoke_agent tech_agent") if s.kind is SpanKind.CLIENT]


def test_two_remote_turns_form_the_seed_tree(served, span_exporter):
    served.llm.push("Run it under gdb.", "Then read the backtrace.")
    result = chat(A2aRemoteAgent(served.url, name="tech_agent"))
    assert [m["content"] for m in result.chat_history][1::2] == ["Run it under gdb.", "Then read the backtrace."]

    spans = served.spans(span_exporter)
    assert len({s.context.trace_id for s in spans}) == 1
    conversation = only(by_name(spans, "conversation user_proxy"))
    calls = remote_calls(spans)
    assert len(calls) == 2
    # one span per remote call: no INTERNAL twin on the client side
    assert [s.kind for s in children(conversation, spans) if s.name == "invoke_agent tech_agent"] == [
        SpanKind.CLIENT
    ] * 2
    for call in calls:
        assert parent_of(call, spans) is conversation
        attributes = call.attributes
        assert attributes["gen_ai.agent.remote"] is True
        assert attributes["server.address"] == served.url
        assert attributes["server.port"] == served.port
        assert attributes["gen_ai.operation.name"] == "invoke_agent"
        assert attributes["gen_ai.agent.name"] == "tech_agent"
        assert attributes["ag2.span.type"] == "agent"
        assert attributes["gen_ai.conversation.id"] == attributes["a2a.context.id"]
        assert attributes["a2a.task.state"] == "completed"

        execution = only([s for s in children(call, spans) if s.attributes.get("http.request.method") == "POST"])
        assert execution.name == "a2a-execution"
        assert execution.kind is SpanKind.SERVER
        assert execution.attributes["http.route"] == "/"
        assert execution.attributes["http.response.status_code"] == 200
        assert execution.attributes["rpc.method"] in ("message/stream", "message/send")
        assert execution.attributes["a2a.task.id"] == attributes["a2a.task.id"]
        assert execution.attributes["a2a.context.id"] == attributes["a2a.context.id"]

        served_conversation = only(children(execution, spans))
        assert served_conversation.name == "conversation tech_agent"
        assert served_conversation.attributes["gen_ai.conversation.id"] == attributes["a2a.context.id"]
        turn = only(children(served_conversation, spans))
        assert (turn.name, turn.kind) == ("invoke_agent tech_agent", SpanKind.INTERNAL)
        llm_call = only(children(turn, spans))
        assert (llm_call.name, llm_call.kind) == ("chat gpt-4o-mini", SpanKind.CLIENT)
        assert llm_call.attributes["gen_ai.usage.output_tokens"] == 5

    card_fetch = only([s for s in spans if s.attributes.get("http.request.method") == "GET"])
    assert card_fetch.attributes["http.route"] == "/.well-known/agent-card.json"
    assert parent_of(card_fetch, spans) is calls[0]

    # every request carried the context current when it was sent, not a stale one
    trace_id = f"{conversation.context.trace_id:032x}"
    parents = [headers["traceparent"] for headers in served.recorder.headers]
    assert all(len(value) == 1 and value[0].split("-")[1] == trace_id for value in parents)
    sent_from = [value[0].split("-")[2] for value in parents]
    assert sent_from[-1] == f"{calls[1].context.span_id:016x}"
    assert sent_from[0] == f"{calls[0].context.span_id:016x}"


def test_global_propagator_carries_tracestate_and_baggage(served, span_exporter):
    served.llm.push("Use gdb.")
    parent = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "v1")]),
    )
    ctx = baggage.set_baggage("tenant", "acme", trace.set_span_in_context(NonRecordingSpan(parent)))
    token = context.attach(ctx)
    try:
        chat(A2aRemoteAgent(served.url, name="tech_agent"), max_turns=1)
    finally:
        context.detach(token)
    for headers in served.recorder.headers:
        assert headers["traceparent"][0].startswith("00-0af7651916cd43dd8448eb211c80319c-")
        assert headers["tracestate"] == ["vendor=v1"]
        assert headers["baggage"] == ["tenant=acme"]
    executions = by_name(served.spans(span_exporter), "a2a-execution")
    assert {s.context.trace_id for s in executions} == {parent.trace_id}


class MarkerPropagator(propagate.textmap.TextMapPropagator):
    """A stand-in for any propagator a user configures with OTEL_PROPAGATORS."""

    def inject(self, carrier: Any, context: Any = None, setter: Any = propagate.textmap.default_setter) -> None:
        span = trace.get_current_span(context)
        setter.set(carrier, "x-marker", f"{span.get_span_context().span_id:016x}")

    def extract(self, carrier: Any, context: Any = None, getter: Any = propagate.textmap.default_getter) -> Any:
        return context if context is not None else context_module_current()

    @property
    def fields(self) -> set[str]:
        return {"x-marker"}


def context_module_current() -> Any:
    return context.get_current()


def test_uses_the_configured_global_propagator(served, monkeypatch):
    served.llm.push("Use gdb.")
    monkeypatch.setattr(propagate, "_HTTP_TEXT_FORMAT", MarkerPropagator())
    chat(A2aRemoteAgent(served.url, name="tech_agent"), max_turns=1)
    assert all("x-marker" in headers and "traceparent" not in headers for headers in served.recorder.headers)


def test_user_client_factory_with_own_transport_and_hooks(served, span_exporter):
    served.llm.push("Use gdb.", "Read it.")
    seen: list[str | None] = []

    async def on_request(request: httpx.Request) -> None:
        seen.append(request.headers.get("traceparent"))

    factory = HttpxClientFactory(transport=httpx.AsyncHTTPTransport(retries=0), event_hooks={"request": [on_request]})
    chat(A2aRemoteAgent(served.url, name="tech_agent", client=factory))
    calls = remote_calls(served.spans(span_exporter))
    assert len(calls) == 2
    # the card fetch goes through the client built in __init__, the messages through per-call clients
    assert len(served.recorder.headers) == 3
    assert all(value is not None for value in seen[1:])
    assert all("traceparent" in headers for headers in served.recorder.headers)


def test_mock_client(instrument, span_exporter):
    remote = A2aRemoteAgent("http://127.0.0.1:9/", name="tech_agent", client=MockClient("mocked answer"))
    result = chat(remote, max_turns=1)
    assert result.chat_history[-1]["content"] == "mocked answer"
    call = only(remote_calls(span_exporter.get_finished_spans()))
    assert call.status.status_code is StatusCode.UNSET
    assert call.attributes["server.address"] == "http://127.0.0.1:9/"


def test_with_httpx_instrumentation_headers_are_not_duplicated(served, span_exporter, tracer_provider):
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    served.llm.push("Use gdb.")
    instrumentor = HTTPXClientInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        chat(A2aRemoteAgent(served.url, name="tech_agent"), max_turns=1)
    finally:
        instrumentor.uninstrument()
    spans = served.spans(span_exporter)
    assert all(len(headers["traceparent"]) == 1 for headers in served.recorder.headers)
    call = only(remote_calls(spans))
    for execution in by_name(spans, "a2a-execution"):
        http_span = parent_of(execution, spans)
        assert http_span.kind is SpanKind.CLIENT and http_span.name in ("GET", "POST")
        assert parent_of(http_span, spans) is call


def expected_error(remote_factory: Any) -> type[BaseException]:
    """The exception the application sees without instrumentation."""
    with pytest.raises(Exception) as raised:
        chat(remote_factory(), max_turns=1)
    return type(raised.value)


def test_server_down(tracer_provider, span_exporter):
    sock = free_socket()  # bound, never listening: connection refused
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    try:
        uninstrumented = expected_error(lambda: A2aRemoteAgent(url, name="tech_agent"))
        from opentelemetry_instrumentation_ag2 import AG2Instrumentor

        instrumentor = AG2Instrumentor()
        instrumentor.instrument(tracer_provider=tracer_provider)
        try:
            with pytest.raises(uninstrumented):
                chat(A2aRemoteAgent(url, name="tech_agent"), max_turns=1)
        finally:
            instrumentor.uninstrument()
    finally:
        sock.close()
    call = only(remote_calls(span_exporter.get_finished_spans()))
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes["error.type"].endswith(uninstrumented.__name__)
    assert [event.name for event in call.events] == ["exception"]


def test_server_answers_500(instrument, span_exporter, llm):
    tech_agent = ConversableAgent("tech_agent", llm_config=llm_config(llm.base_url), human_input_mode="NEVER")

    def fail_posts(app: Any) -> Any:
        async def wrapped(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["method"] == "POST":
                await send({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"boom"})
                return
            await app(scope, receive, send)

        return wrapped

    with serve_agent(tech_agent, wrap=fail_posts) as url, pytest.raises(Exception) as raised:
        chat(A2aRemoteAgent(url, name="tech_agent"), max_turns=1)
    call = only(remote_calls(span_exporter.get_finished_spans()))
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes["error.type"].endswith(type(raised.value).__name__)


def test_served_agent_failure_is_an_error_on_both_sides_and_the_server_keeps_serving(served, span_exporter):
    served.llm.push({"status": 500, "body": {"message": "model overloaded"}}, "Recovered.")
    with pytest.raises(Exception) as raised:
        chat(A2aRemoteAgent(served.url, name="tech_agent"), max_turns=1)
    spans = served.spans(span_exporter)
    call = only(remote_calls(spans))
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes["error.type"].endswith(type(raised.value).__name__)
    execution = only([s for s in children(call, spans) if s.attributes.get("http.request.method") == "POST"])
    assert execution.status.status_code is StatusCode.ERROR
    assert "error.type" in execution.attributes
    assert execution.attributes["http.response.status_code"] == 200
    failed_chat = only(by_name(spans, "chat gpt-4o-mini"))
    assert failed_chat.attributes["error.type"] == "openai.InternalServerError"

    span_exporter.clear()
    served.recorder.headers.clear()
    result = chat(A2aRemoteAgent(served.url, name="tech_agent"), max_turns=1)
    assert result.chat_history[-1]["content"] == "Recovered."
    spans = served.spans(span_exporter)
    assert only(remote_calls(spans)).status.status_code is StatusCode.UNSET
    assert all(s.status.status_code is StatusCode.UNSET for s in spans)


@pytest.mark.parametrize(
    "headers",
    [
        {"traceparent": "garbage"},
        {"traceparent": "00-00000000000000000000000000000000-0000000000000000-01"},
        {"traceparent": "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra"},
        {"traceparent": "00-" + "a" * 5000},
        {"tracestate": "x" * 20000, "traceparent": "nope"},
        {"baggage": "ü=ü;;;===,,,".encode() * 500, "traceparent": "00-ü-ü-01".encode()},
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-zz"},
    ],
    ids=["garbage", "all-zero", "bad-version", "huge", "huge-tracestate", "hostile-baggage", "bad-flags"],
)
def test_bad_trace_headers_start_a_fresh_trace(served, span_exporter, headers):
    response = httpx.get(served.url + ".well-known/agent-card.json", headers=headers, timeout=10)
    assert response.status_code == 200
    execution = only(by_name(served.spans(span_exporter), "a2a-execution"))
    assert execution.parent is None
    assert execution.attributes["http.response.status_code"] == 200


def test_valid_traceparent_is_continued(served, span_exporter):
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    response = httpx.get(served.url + ".well-known/agent-card.json", headers={"traceparent": traceparent})
    assert response.status_code == 200
    execution = only(by_name(served.spans(span_exporter), "a2a-execution"))
    assert execution.context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert execution.parent.span_id == 0xB7AD6B7169203331
    assert execution.parent.is_remote


def test_a_request_the_users_own_middleware_rejects_has_its_span(instrument, span_exporter, llm):
    from starlette.middleware.base import BaseHTTPMiddleware
    from starlette.responses import JSONResponse

    spans_seen_by_the_middleware: list[trace.Span] = []

    class RequireApiKey(BaseHTTPMiddleware):
        async def dispatch(self, request: Any, call_next: Any) -> Any:
            spans_seen_by_the_middleware.append(trace.get_current_span())
            if request.method == "POST" and request.headers.get("x-api-key") != "secret":
                return JSONResponse({"error": "unauthorized"}, status_code=401)
            return await call_next(request)

    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    tech_agent = ConversableAgent("tech_agent", llm_config=llm_config(llm.base_url), human_input_mode="NEVER")
    with serve_agent(tech_agent, middleware=[RequireApiKey]) as url:
        response = httpx.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "message/send"}, headers={"traceparent": traceparent}
        )
        assert response.status_code == 401
        rejected = only(span_exporter.wait_for(lambda spans: by_name(spans, "a2a-execution")))
        span_exporter.clear()

        llm.push("Use gdb.")
        factory = HttpxClientFactory(headers={"x-api-key": "secret"})
        result = chat(A2aRemoteAgent(url, name="tech_agent", client=factory), max_turns=1)
        assert result.chat_history[-1]["content"] == "Use gdb."
        served = span_exporter.wait_for(lambda spans: len(by_name(spans, "a2a-execution")) >= 2)

    assert (rejected.kind, rejected.attributes["http.response.status_code"]) == (SpanKind.SERVER, 401)
    assert rejected.context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert rejected.parent.span_id == 0xB7AD6B7169203331
    assert spans_seen_by_the_middleware[0].get_span_context() == rejected.context
    call = only(remote_calls(served))
    assert all(parent_of(execution, served) is call for execution in by_name(served, "a2a-execution"))
    assert by_name(served, "conversation tech_agent")


@pytest.mark.parametrize("scope_type", ["lifespan", "websocket"])
def test_non_http_scopes_pass_through_untouched(instrument, span_exporter, scope_type):
    calls = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        calls.append((scope, receive, send))

    async def receive() -> dict:
        return {}

    async def send(message: dict) -> None:
        return None

    middleware = A2AServerMiddleware(app, instrument._telemetry)
    scope = {"type": scope_type}
    asyncio.run(middleware(scope, receive, send))
    assert calls == [(scope, receive, send)]
    assert span_exporter.get_finished_spans() == ()


def test_a_long_stream_notes_the_task_each_time_it_changes_not_on_every_event():
    def task(state: str) -> SimpleNamespace:
        return SimpleNamespace(id="task-1", status=SimpleNamespace(state=SimpleNamespace(value=state)))

    events = [(task("submitted"), None), *((task("working"), f"artifact {i}") for i in range(200))]
    events.append((task("completed"), None))

    class SetAttributeLog:
        def __init__(self) -> None:
            self.calls: list[tuple[str, Any]] = []

        def set_attribute(self, key: str, value: Any) -> None:
            self.calls.append((key, value))

    async def stream() -> Any:
        for event in events:
            yield event

    async def consume(span: SetAttributeLog) -> list[Any]:
        return [event async for event in _record_tasks(stream(), span)]  # type: ignore[arg-type]

    span = SetAttributeLog()
    assert asyncio.run(consume(span)) == events
    assert span.calls == [
        (key, value)
        for state in ("submitted", "working", "completed")
        for key, value in (("a2a.task.id", "task-1"), ("a2a.task.state", state))
    ]
