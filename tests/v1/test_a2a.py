"""AG2 1.x over A2A: one CLIENT span per remote call, continued by the server's ``a2a-execution`` in one trace.

Servers are real (uvicorn or grpc.aio on 127.0.0.1, in threads of their own) and built before ``instrument()``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from a2a.client import ClientCallContext, ClientCallInterceptor
from ag2 import Agent, tool
from ag2.a2a import A2AConfig
from ag2.events import ToolCallEvent
from ag2.middleware import TelemetryMiddleware
from opentelemetry import baggage, context, propagate, trace
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags, TraceState

from tests.support.asgi_servers import RecordingApp
from tests.support.fixtures import Traced
from tests.v1.a2a_support import EchoConfig, children, only, parent_of, serve_agent, serve_agent_grpc
from tests.v1.helpers import AG2_SCOPE, by_name, one, scope_of, scripted

pytestmark = pytest.mark.timeout(60)

TRANSPORTS = ["jsonrpc", "rest", "grpc"]
CARD_ROUTE = "/.well-known/agent-card.json"


def serve(transport: str, agent: Any, wrap: Callable[[Any], Any] | None = None) -> AbstractContextManager[str]:
    """The agent served over ``transport``; yields its card URL."""
    return serve_agent_grpc(agent, wrap) if transport == "grpc" else serve_agent(agent, transport, wrap)


def tech_agent() -> Agent:
    return Agent("tech_agent", "You solve technical problems.", config=EchoConfig())


def remote_calls(spans: tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    return [s for s in spans if s.name == "invoke_agent tech_agent" and s.kind is SpanKind.CLIENT]


def served_turn(spans: tuple[ReadableSpan, ...]) -> ReadableSpan:
    return only([s for s in spans if s.name == "invoke_agent tech_agent" and s.kind is SpanKind.INTERNAL])


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "polling"])
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_remote_call_is_one_client_span_and_the_server_continues_its_trace(
    traced: Traced, transport: str, streaming: bool
) -> None:
    with serve(transport, tech_agent()) as url:
        traced()
        remote = Agent("tech_agent", config=A2AConfig(card_url=url, streaming=streaming))
        reply = await remote.ask("segfault on startup")
        spans = traced.spans()

    assert reply.body == "answer to segfault on startup"
    assert len({s.context.trace_id for s in spans}) == 1
    (call,) = remote_calls(spans)
    assert call.parent is None and call.status.status_code is StatusCode.UNSET
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    assert {key: call.attributes[key] for key in ("gen_ai.agent.remote", "server.address", "server.port")} == {
        "gen_ai.agent.remote": True,
        "server.address": url,
        "server.port": port,
    }
    assert call.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert call.attributes["gen_ai.agent.name"] == "tech_agent"
    assert call.attributes["ag2.span.type"] == "agent"
    assert call.attributes["a2a.task.id"] and call.attributes["a2a.context.id"]

    # no double of the hop: nothing between the CLIENT span and the server's spans
    executions = children(call, spans)
    assert len(executions) == 2 if streaming else len(executions) >= 3  # card, message(, polls of its task)
    assert all((s.name, s.kind) == ("a2a-execution", SpanKind.SERVER) for s in executions)
    assert [s.name for s in spans if s.name.startswith("chat")] == ["chat gpt-echo"]

    card = only([s for s in executions if s.attributes.get("http.route") == CARD_ROUTE])
    assert card.attributes["http.route"] == CARD_ROUTE
    assert card.attributes["http.response.status_code"] == 200

    turn = served_turn(spans)
    execution = parent_of(turn, spans)
    assert execution in executions
    assert execution.attributes["a2a.task.id"] == call.attributes["a2a.task.id"]
    assert execution.attributes["a2a.context.id"] == call.attributes["a2a.context.id"]
    if transport == "grpc":
        method = "SendStreamingMessage" if streaming else "SendMessage"
        assert execution.attributes["rpc.system.name"] == "grpc"
        assert execution.attributes["rpc.method"] == f"lf.a2a.v1.A2AService/{method}"
    else:
        assert execution.attributes["http.request.method"] == "POST"
        assert execution.attributes["http.response.status_code"] == 200
    if transport == "jsonrpc":
        assert execution.attributes["rpc.system.name"] == "jsonrpc"
        assert execution.attributes["rpc.method"] == ("SendStreamingMessage" if streaming else "SendMessage")
    chat = only(children(turn, spans))
    assert chat.kind is SpanKind.CLIENT and chat.attributes["gen_ai.usage.output_tokens"] == 2
    polls = [s for s in executions if s not in (card, execution)]
    assert all(poll.attributes["a2a.task.id"] == call.attributes["a2a.task.id"] for poll in polls)


@tool
async def ask_tech_agent(question: str) -> str:
    """Ask the remote tech agent."""
    return (await Agent("tech_agent", config=A2AConfig(card_url=ask_tech_agent_url[0])).ask(question)).body


ask_tech_agent_url: list[str] = []


async def test_a_remote_call_sits_under_whatever_called_that_agent(traced: Traced) -> None:
    with serve("jsonrpc", tech_agent()) as url:
        ask_tech_agent_url[:] = [url]
        traced()
        model = scripted(ToolCallEvent(name="ask_tech_agent", arguments='{"question": "gdb?"}', id="c-1"), "Done.")
        triage = Agent("triage", config=model, tools=[ask_tech_agent])
        assert (await triage.ask("My app crashes")).body == "Done."
        spans = traced.spans()

    assert len({s.context.trace_id for s in spans}) == 1
    tool_span = one(spans, "execute_tool ask_tech_agent")
    (call,) = remote_calls(spans)
    assert parent_of(call, spans) is tool_span
    assert parent_of(tool_span, spans) is one(spans, "invoke_agent triage")
    assert parent_of(parent_of(served_turn(spans), spans), spans) is call


async def test_trace_context_tracestate_and_baggage_on_every_request_from_the_global_propagator(traced: Traced) -> None:
    parent = SpanContext(
        0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, True, TraceFlags(1), TraceState([("vendor", "v1")])
    )
    recorders: list[RecordingApp] = []
    with serve("jsonrpc", tech_agent(), wrap=lambda app: recorders.append(RecordingApp(app)) or recorders[0]) as url:
        traced()
        token = context.attach(
            baggage.set_baggage("tenant", "acme", trace.set_span_in_context(NonRecordingSpan(parent)))
        )
        try:
            await (await Agent("tech_agent", config=A2AConfig(card_url=url)).ask("one")).ask("two")
        finally:
            context.detach(token)
        spans = traced.spans()

    calls = remote_calls(spans)
    assert len(calls) == 2 and all(call.context.trace_id == parent.trace_id for call in calls)
    headers = recorders[0].headers
    assert [h[":method"] for h in headers] == [["GET"], ["POST"]] * 2
    for index, request in enumerate(headers):  # each carries the call current when it was sent
        sent_from = f"00-{parent.trace_id:032x}-{calls[index // 2].context.span_id:016x}-01"
        assert request["traceparent"] == [sent_from]
        assert request["tracestate"] == ["vendor=v1"]
        assert request["baggage"] == ["tenant=acme"]


async def test_grpc_metadata_carries_the_trace_context(traced: Traced) -> None:
    parent = SpanContext(
        0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, True, TraceFlags(1), TraceState([("vendor", "v1")])
    )
    with serve("grpc", tech_agent()) as url:
        traced()
        token = context.attach(trace.set_span_in_context(NonRecordingSpan(parent)))
        try:
            await Agent("tech_agent", config=A2AConfig(card_url=url)).ask("one")
        finally:
            context.detach(token)
        spans = traced.spans()

    (call,) = remote_calls(spans)
    execution = parent_of(served_turn(spans), spans)
    assert execution.attributes["rpc.system.name"] == "grpc"
    assert execution.parent.is_remote and parent_of(execution, spans) is call
    assert execution.context.trace_state == TraceState([("vendor", "v1")])


class ServiceParameter(ClientCallInterceptor):
    """A user's interceptor adding a header (HTTP) or metadata (gRPC) to every A2A call."""

    def __init__(self) -> None:
        self.methods: list[str] = []

    async def before(self, args: Any) -> None:
        call_context = args.context or ClientCallContext()
        call_context.service_parameters = {**(call_context.service_parameters or {}), "x-from-interceptor": "2"}
        args.context = call_context
        self.methods.append(args.method)

    async def after(self, args: Any) -> None:
        pass


@pytest.mark.parametrize("transport", ["jsonrpc", "rest"])
async def test_a_users_client_factory_interceptors_and_headers_keep_working(traced: Traced, transport: str) -> None:
    hooked: list[str | None] = []

    async def on_request(request: httpx.Request) -> None:
        hooked.append(request.headers.get("traceparent"))

    def factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(headers={"x-from-factory": "1"}, event_hooks={"request": [on_request]})

    interceptor = ServiceParameter()
    recorders: list[RecordingApp] = []
    with serve(transport, tech_agent(), wrap=lambda app: recorders.append(RecordingApp(app)) or recorders[0]) as url:
        traced()
        configs = (
            A2AConfig(card_url=url, httpx_client_factory=factory, interceptors=[interceptor]),
            A2AConfig(card_url=url, headers={"x-from-config": "3"}),
        )
        for config in configs:
            assert (await Agent("tech_agent", config=config).ask("hi")).body == "answer to hi"
        spans = traced.spans()

    assert len(remote_calls(spans)) == 2
    assert interceptor.methods and len(hooked) == 2 and all(hooked)
    with_factory, with_headers = recorders[0].headers[:2], recorders[0].headers[2:]
    assert all(len(h["traceparent"]) == 1 for h in recorders[0].headers)
    assert all(h["x-from-factory"] == ["1"] for h in with_factory)
    assert with_factory[1]["x-from-interceptor"] == ["2"]  # the A2A call; the card fetch has no interceptors
    assert all(h["x-from-config"] == ["3"] for h in with_headers)


async def test_a_grpc_interceptor_keeps_working(traced: Traced) -> None:
    interceptor = ServiceParameter()
    with serve("grpc", tech_agent()) as url:
        traced()
        config = A2AConfig(card_url=url, interceptors=[interceptor])
        assert (await Agent("tech_agent", config=config).ask("hi")).body == "answer to hi"
        spans = traced.spans()
    assert interceptor.methods
    assert parent_of(parent_of(served_turn(spans), spans), spans) is remote_calls(spans)[0]


class MarkerPropagator(propagate.textmap.TextMapPropagator):
    """Any propagator a user configures with ``OTEL_PROPAGATORS``."""

    def inject(self, carrier: Any, context: Any = None, setter: Any = propagate.textmap.default_setter) -> None:
        setter.set(carrier, "x-marker", f"{trace.get_current_span(context).get_span_context().span_id:016x}")

    def extract(self, carrier: Any, context: Any = None, getter: Any = propagate.textmap.default_getter) -> Any:
        return context if context is not None else propagate.context.get_current()

    @property
    def fields(self) -> set[str]:
        return {"x-marker"}


async def test_uses_the_configured_global_propagator(traced: Traced, monkeypatch: pytest.MonkeyPatch) -> None:
    recorders: list[RecordingApp] = []
    with serve("jsonrpc", tech_agent(), wrap=lambda app: recorders.append(RecordingApp(app)) or recorders[0]) as url:
        traced()
        monkeypatch.setattr(propagate, "_HTTP_TEXT_FORMAT", MarkerPropagator())
        await Agent("tech_agent", config=A2AConfig(card_url=url)).ask("hi")
        spans = traced.spans()
    (call,) = remote_calls(spans)
    assert [h["x-marker"] for h in recorders[0].headers] == [[f"{call.context.span_id:016x}"]] * 2
    assert all("traceparent" not in h for h in recorders[0].headers)


async def test_with_httpx_instrumentation_headers_are_not_duplicated(
    traced: Traced, tracer_provider: TracerProvider
) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    recorders: list[RecordingApp] = []
    with serve("jsonrpc", tech_agent(), wrap=lambda app: recorders.append(RecordingApp(app)) or recorders[0]) as url:
        traced()
        instrumentor = HTTPXClientInstrumentor()
        instrumentor.instrument(tracer_provider=tracer_provider)
        try:
            await Agent("tech_agent", config=A2AConfig(card_url=url)).ask("hi")
        finally:
            instrumentor.uninstrument()
        spans = traced.spans()
    assert all(len(h["traceparent"]) == 1 for h in recorders[0].headers)
    (call,) = remote_calls(spans)
    for execution in by_name(spans, "a2a-execution"):
        http_span = parent_of(execution, spans)
        assert http_span.kind is SpanKind.CLIENT and http_span.name in ("GET", "POST")
        assert parent_of(http_span, spans) is call


async def test_an_app_built_after_instrument_makes_one_span_per_request(traced: Traced) -> None:
    traced()
    with serve("rest", tech_agent()) as url:
        await Agent("tech_agent", config=A2AConfig(card_url=url)).ask("hi")
        spans = traced.spans()
    (call,) = remote_calls(spans)
    assert sorted(s.attributes["http.route"] for s in children(call, spans)) == [CARD_ROUTE, "/message:stream"]
    assert len(by_name(spans, "a2a-execution")) == 2


async def test_under_an_outer_server_span_the_execution_is_internal(
    traced: Traced, tracer_provider: TracerProvider
) -> None:
    tracer = tracer_provider.get_tracer("outer-asgi")

    def outer_server_span(app: Any) -> Any:
        async def asgi(scope: dict, receive: Any, send: Any) -> None:
            carrier = {k.decode(): v.decode() for k, v in scope.get("headers", ())}
            with tracer.start_as_current_span("HTTP", propagate.extract(carrier), SpanKind.SERVER):
                await app(scope, receive, send)

        return asgi

    with serve("jsonrpc", tech_agent(), wrap=outer_server_span) as url:
        traced()
        await Agent("tech_agent", config=A2AConfig(card_url=url)).ask("hi")
        spans = traced.spans()
    (call,) = remote_calls(spans)
    for outer in children(call, spans):
        assert (outer.name, outer.kind) == ("HTTP", SpanKind.SERVER)
        (execution,) = children(outer, spans)
        assert (execution.name, execution.kind) == ("a2a-execution", SpanKind.INTERNAL)


async def test_with_ag2s_own_tracing_on_the_remote_agent_ours_steps_aside_and_still_propagates(
    traced: Traced, tracer_provider: TracerProvider
) -> None:
    own = TelemetryMiddleware(tracer_provider=tracer_provider, agent_name="tech_agent", capture_content=False)
    with serve("jsonrpc", tech_agent()) as url:
        traced()
        await Agent("tech_agent", config=A2AConfig(card_url=url), middleware=[own]).ask("hi")
        spans = traced.spans()
    assert not remote_calls(spans)
    hop = only([s for s in spans if scope_of(s) == AG2_SCOPE and s.name.startswith("chat")])
    assert all(parent_of(s, spans) is hop for s in by_name(spans, "a2a-execution"))


async def test_a_remote_call_is_measured_as_a_client_operation_as_on_the_classic_line(
    traced: Traced, metric_reader: InMemoryMetricReader
) -> None:
    with serve("jsonrpc", tech_agent()) as url:
        traced()
        await Agent("tech_agent", config=A2AConfig(card_url=url)).ask("gdb?")
        traced.spans()

    points: dict[str, list] = {}
    for resource_metrics in metric_reader.get_metrics_data().resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                points.setdefault(metric.name, []).extend(metric.data.data_points)
    calls = [dict(p.attributes) for p in points["gen_ai.client.operation.duration"]]
    remote = [c for c in calls if c["gen_ai.operation.name"] == "invoke_agent"]
    assert [(c["gen_ai.agent.name"], c["server.address"]) for c in remote] == [("tech_agent", url)]
    served = [p.attributes["gen_ai.agent.name"] for p in points["gen_ai.invoke_agent.duration"]]
    assert served == ["tech_agent"]  # the served agent's own turn, on the server
