"""The OTLP receiver (tests/support) and examples/trace_receiver.py: real exporters in, traces grouped and rendered."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import grpc
import httpx
import pytest
from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from tests.support.otlp_receiver import (
    TRACE_EXPORT_METHOD,
    Forwarder,
    ReceivedSpan,
    ReceiverStartError,
    TraceReceiver,
    is_connected,
    render_trace,
)
from tests.support.processes import EXAMPLES

pytestmark = pytest.mark.timeout(120)

PROTOBUF = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def receiver() -> Iterator[TraceReceiver]:
    with TraceReceiver() as running:
        yield running


def provider_for(service: str, exporter: SpanExporter, *, batch: bool = False) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
    return provider


def grpc_exporter(receiver: TraceReceiver) -> GrpcSpanExporter:
    return GrpcSpanExporter(endpoint=receiver.grpc_endpoint, insecure=True)


def http_exporter(receiver: TraceReceiver) -> HttpSpanExporter:
    return HttpSpanExporter(endpoint=receiver.http_endpoint + "/v1/traces")


def emit_two_services(client: TracerProvider, server: TracerProvider) -> str:
    """A client span calling a server whose span has a child with an error; returns the trace id."""
    with client.get_tracer("test").start_as_current_span("invoke_agent tech_agent", kind=SpanKind.CLIENT) as call:
        call.set_attribute("gen_ai.agent.remote", True)
        call.set_attribute("server.address", "http://127.0.0.1:1/")
        server_tracer = server.get_tracer("test")
        with server_tracer.start_as_current_span("a2a-execution", kind=SpanKind.SERVER) as execution:
            execution.set_attribute("http.response.status_code", 200)
            with server_tracer.start_as_current_span("chat gpt-4o-mini", set_status_on_exception=False) as chat:
                chat.set_attribute("gen_ai.usage.input_tokens", 20)
                chat.set_attribute("error.type", "RateLimitError")
                chat.set_status(Status(StatusCode.ERROR, "slow down"))
    for provider in (client, server):
        provider.force_flush()
        provider.shutdown()
    return format(call.get_span_context().trace_id, "032x")


def tree_lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


# -- real exporters -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_exporter", "server_exporter"),
    [(grpc_exporter, http_exporter), (http_exporter, grpc_exporter)],
    ids=["grpc-client-http-server", "http-client-grpc-server"],
)
def test_real_exporters_of_two_services_make_one_trace(receiver, client_exporter, server_exporter) -> None:
    trace_id = emit_two_services(
        provider_for("client-service", client_exporter(receiver)),
        provider_for("tech-agent-service", server_exporter(receiver)),
    )

    spans = receiver.wait_for(lambda spans: len(spans) == 3, timeout=20)

    assert list(receiver.traces()) == [trace_id]
    assert {s.service_name for s in spans} == {"client-service", "tech-agent-service"}
    assert is_connected(spans)
    chat = next(s for s in spans if s.name == "chat gpt-4o-mini")
    assert (chat.status_code, chat.status_message) == ("ERROR", "slow down")
    lines = tree_lines(render_trace(spans))
    assert lines[0].startswith(f"trace {trace_id}  ·  3 spans  ·  2 services: client-service, tech-agent-service")
    assert re.fullmatch(
        r"└── invoke_agent tech_agent  \[client-service\]  \d+\.\d ms  CLIENT  "
        r"gen_ai\.agent\.remote=true  server\.address=http://127\.0\.0\.1:1/",
        lines[1],
    )
    assert re.fullmatch(
        r"    └── a2a-execution  \[tech-agent-service\]  \d+\.\d ms  SERVER  http\.response\.status_code=200", lines[2]
    )
    assert re.fullmatch(
        r"        └── chat gpt-4o-mini  \[tech-agent-service\]  \d+\.\d ms  gen_ai\.usage\.input_tokens=20  "
        r"error\.type=RateLimitError  ✗ ERROR: slow down",
        lines[3],
    )


def test_burst_of_traces_from_threads_over_both_protocols(receiver) -> None:
    traces_per_thread, threads = 50, 4
    errors: list[BaseException] = []
    expected: dict[str, set[str]] = {}
    lock = threading.Lock()

    def emit(index: int) -> None:
        exporter = grpc_exporter(receiver) if index % 2 else http_exporter(receiver)
        provider = provider_for(f"service-{index}", exporter, batch=True)
        tracer = provider.get_tracer("burst")
        try:
            for number in range(traces_per_thread):
                with tracer.start_as_current_span(f"root {index}-{number}") as root:
                    names = {f"root {index}-{number}"}
                    for child in range(2):
                        with (
                            tracer.start_as_current_span(f"child {child}"),
                            tracer.start_as_current_span(f"grandchild {child}"),
                        ):
                            pass
                        names |= {f"child {child}", f"grandchild {child}"}
                with lock:
                    expected[format(root.get_span_context().trace_id, "032x")] = names
            assert provider.force_flush(30_000)
        except BaseException as exc:  # surfaced by the main thread
            errors.append(exc)
        finally:
            provider.shutdown()

    workers = [threading.Thread(target=emit, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)

    total = traces_per_thread * threads * 5
    spans = receiver.wait_for(lambda spans: len(spans) >= total, timeout=60)
    assert not errors
    assert len(spans) == total
    assert len({(s.trace_id, s.span_id) for s in spans}) == total
    grouped = receiver.traces()
    assert len(grouped) == traces_per_thread * threads
    for trace_id, trace_spans in grouped.items():
        assert {s.name for s in trace_spans} == expected[trace_id]
        assert len(trace_spans) == 5
        assert is_connected(trace_spans)
        assert len({s.service_name for s in trace_spans}) == 1


# -- malformed payloads ---------------------------------------------------------------------------------------


def export_request(trace_id: bytes, span_id: bytes, parent: bytes = b"") -> bytes:
    span = trace_pb2.Span(name="handmade", trace_id=trace_id, span_id=span_id, parent_span_id=parent)
    request = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=[span])])]
    )
    return request.SerializeToString()


BAD_PAYLOADS = {
    "not protobuf": (b"\xff\xff\xff\xff not protobuf", "not a protobuf ExportTraceServiceRequest"),
    "short trace id": (export_request(b"\x01" * 3, b"\x02" * 8), "trace_id must be 16 bytes"),
    "zero span id": (export_request(b"\x01" * 16, b"\x00" * 8), "span_id must be 8 bytes, not all zero"),
    "bad parent id": (export_request(b"\x01" * 16, b"\x02" * 8, b"\x03"), "parent_span_id must be empty or 8"),
}


@pytest.mark.parametrize("payload", BAD_PAYLOADS, ids=list(BAD_PAYLOADS))
def test_malformed_payloads_get_clear_errors_and_the_receiver_keeps_running(receiver, payload) -> None:
    body, message = BAD_PAYLOADS[payload]

    response = httpx.post(receiver.http_endpoint + "/v1/traces", content=body, headers=PROTOBUF, timeout=10)
    assert response.status_code == 400
    assert response.text.startswith("Invalid OTLP trace export: ")
    assert message in response.text

    channel = grpc.insecure_channel(receiver.grpc_endpoint.removeprefix("http://"))
    with channel, pytest.raises(grpc.RpcError) as raised:
        channel.unary_unary(TRACE_EXPORT_METHOD)(body, timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in raised.value.details()

    assert receiver.spans == []
    emit_two_services(
        provider_for("after-grpc", grpc_exporter(receiver)), provider_for("after-http", http_exporter(receiver))
    )
    assert len(receiver.wait_for(lambda spans: len(spans) == 3, timeout=20)) == 3


def test_json_and_unknown_encodings_are_refused_with_a_reason(receiver) -> None:
    url = receiver.http_endpoint + "/v1/traces"
    as_json = httpx.post(url, content=b"{}", headers={"Content-Type": "application/json"}, timeout=10)
    assert as_json.status_code == 415
    assert as_json.text == "OTLP/HTTP JSON is not supported here: export with http/protobuf"
    zstd = httpx.post(url, content=b"x", headers={**PROTOBUF, "Content-Encoding": "zstd"}, timeout=10)
    assert zstd.status_code == 400
    assert "unsupported Content-Encoding: 'zstd'" in zstd.text


# -- quiet traces ---------------------------------------------------------------------------------------------


class Reports:
    """Collects ``on_trace`` calls; a test waits on it."""

    def __init__(self) -> None:
        self.calls: queue.Queue[tuple[str, list[ReceivedSpan]]] = queue.Queue()

    def __call__(self, trace_id: str, spans: list[ReceivedSpan]) -> None:
        self.calls.put((trace_id, spans))

    def next(self, timeout: float = 20) -> tuple[str, list[ReceivedSpan]]:
        return self.calls.get(timeout=timeout)


def test_a_trace_is_reported_once_it_is_whole_and_quiet() -> None:
    reports = Reports()
    with TraceReceiver(on_trace=reports, quiet_ms=50, incomplete_ms=60_000) as receiver:
        client = provider_for("client-service", grpc_exporter(receiver))
        tracer = client.get_tracer("test")
        with tracer.start_as_current_span("conversation user_proxy") as root:
            with tracer.start_as_current_span("invoke_agent tech_agent"):
                pass
            receiver.wait_for(lambda spans: len(spans) == 1, timeout=20)
            receiver.wait_until_quiet(0.3)  # quiet, but the root has not arrived: not reported yet
            assert reports.calls.empty()
        trace_id, spans = reports.next()
        client.shutdown()

    assert trace_id == format(root.get_span_context().trace_id, "032x")
    assert sorted(s.name for s in spans) == ["conversation user_proxy", "invoke_agent tech_agent"]
    assert reports.calls.empty()


def test_an_incomplete_trace_is_reported_after_the_longer_wait_and_again_at_stop() -> None:
    reports = Reports()
    with TraceReceiver(on_trace=reports, quiet_ms=50, incomplete_ms=200) as receiver:
        client = provider_for("server-only", http_exporter(receiver))
        remote_parent = trace.NonRecordingSpan(
            trace.SpanContext(0x1234, 0x5678, is_remote=True, trace_flags=trace.TraceFlags(1))
        )
        token = context.attach(trace.set_span_in_context(remote_parent))
        try:
            with client.get_tracer("test").start_as_current_span("a2a-execution", kind=SpanKind.SERVER):
                pass
        finally:
            context.detach(token)
        trace_id, spans = reports.next()
        assert trace_id == format(0x1234, "032x")
        assert [s.name for s in spans] == ["a2a-execution"]
        assert "(parent 0000000000005678 not received)" in render_trace(spans)

        with client.get_tracer("test").start_as_current_span("late root"):
            pass
        receiver.wait_for(lambda spans: len(spans) == 2, timeout=20)
    client.shutdown()
    late_trace_id, late_spans = reports.next()  # reported at stop at the latest
    assert [s.name for s in late_spans] == ["late root"]
    assert late_trace_id != trace_id


# -- forwarding, ports ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_everything_is_forwarded_to_another_otlp_endpoint(protocol) -> None:
    with TraceReceiver() as backend:
        target = backend.grpc_endpoint if protocol == "grpc" else backend.http_endpoint
        with TraceReceiver(forwarder=Forwarder(target, protocol)) as front:
            trace_id = emit_two_services(
                provider_for("client-service", grpc_exporter(front)),
                provider_for("tech-agent-service", http_exporter(front)),
            )
            received = front.wait_for(lambda spans: len(spans) == 3, timeout=20)
            forwarded = backend.wait_for(lambda spans: len(spans) == 3, timeout=20)
        assert front.forwarder is not None
        assert (front.forwarder.sent, front.forwarder.failed) == (3, 0)  # one export per span
    assert sorted(forwarded, key=lambda s: s.span_id) == sorted(received, key=lambda s: s.span_id)
    assert list(backend.traces()) == [trace_id]


def test_a_dead_forward_target_does_not_stop_the_receiver(capfd) -> None:
    with TraceReceiver() as dead:
        dead_endpoint = dead.grpc_endpoint
    forwarder = Forwarder(dead_endpoint, "grpc", timeout=2)
    with TraceReceiver(forwarder=forwarder) as front:
        emit_two_services(
            provider_for("client-service", grpc_exporter(front)), provider_for("server", http_exporter(front))
        )
        assert len(front.wait_for(lambda spans: len(spans) == 3, timeout=20)) == 3
    assert (forwarder.sent, forwarder.failed) == (0, 3)
    assert capfd.readouterr().err.count(f"could not forward to {dead_endpoint}") == 1


def test_forwarding_to_itself_is_refused() -> None:
    with TraceReceiver() as first:
        port = int(first.grpc_endpoint.rsplit(":", 1)[1])
    looping = TraceReceiver(grpc_port=port, forwarder=Forwarder(f"http://localhost:{port}"))
    with pytest.raises(ReceiverStartError, match="refusing to forward to the receiver itself"):
        looping.start()


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_a_taken_port_is_a_clear_error(receiver, protocol) -> None:
    endpoint = receiver.grpc_endpoint if protocol == "grpc" else receiver.http_endpoint
    port = int(endpoint.rsplit(":", 1)[1])
    second = TraceReceiver(**{f"{protocol}_port": port})
    label = "gRPC" if protocol == "grpc" else "HTTP"
    with pytest.raises(ReceiverStartError, match=rf"cannot listen for OTLP/{label} on 127\.0\.0\.1:{port}"):
        second.start()
    second.stop()


# -- rendering ------------------------------------------------------------------------------------------------


def span(name: str, span_id: str, parent: str | None, start_ms: int, end_ms: int, **extra: object) -> ReceivedSpan:
    fields: dict = {
        "kind": "INTERNAL",
        "attributes": {},
        "status_code": "UNSET",
        "service_name": "orchestrator",
        "scope_name": "test",
        "events": (),
    }
    fields.update(extra)
    return ReceivedSpan(
        name=name,
        trace_id="ab" * 16,
        span_id=span_id,
        parent_span_id=parent,
        start_ns=start_ms * 1_000_000,
        end_ns=end_ms * 1_000_000,
        **fields,
    )


def test_tree_rendering_nests_children_in_start_order_with_key_attributes() -> None:
    # fmt: off
    spans = [
        span("chat gpt-4o-mini", "c1", "s1", 12, 20, kind="CLIENT", service_name="tech-agent-service",
             attributes={"gen_ai.usage.input_tokens": 20, "gen_ai.usage.output_tokens": 5, "secret": "x"}),
        span("invoke_agent research_agent", "r1", "root", 40, 90, kind="CLIENT",
             attributes={"gen_ai.agent.remote": True, "server.address": "http://127.0.0.1:2/"},
             status_code="ERROR", status_message="boom"),
        span("a2a-execution", "s1", "t1", 11, 30, kind="SERVER", service_name="tech-agent-service",
             attributes={"server.address": "127.0.0.1", "rpc.method": "message/stream",
                         "http.response.status_code": 200}),
        span("conversation chat_manager", "root", None, 0, 100),
        span("invoke_agent tech_agent", "t1", "root", 10, 35, kind="CLIENT",
             attributes={"gen_ai.agent.remote": True, "server.address": "http://127.0.0.1:1/"}),
        span("speaker_selection", "sel", "root", 1, 2, attributes={"ag2.speaker_selection.selected": "tech_agent"}),
        span("a2a-execution", "lost", "ffffffffffffffff", 50, 60, kind="SERVER", service_name="research-agent-service",
             attributes={"error.type": "TimeoutError"}),
    ]
    # fmt: on

    text = render_trace(spans)

    assert text.splitlines() == [
        f"trace {'ab' * 16}  ·  7 spans  ·  3 services: orchestrator, research-agent-service, tech-agent-service"
        "  ·  100.0 ms",
        "├── conversation chat_manager  [orchestrator]  100.0 ms",
        "│   ├── speaker_selection  [orchestrator]  1.0 ms  ag2.speaker_selection.selected=tech_agent",
        "│   ├── invoke_agent tech_agent  [orchestrator]  25.0 ms  CLIENT  gen_ai.agent.remote=true"
        "  server.address=http://127.0.0.1:1/",
        "│   │   └── a2a-execution  [tech-agent-service]  19.0 ms  SERVER  rpc.method=message/stream"
        "  http.response.status_code=200",
        "│   │       └── chat gpt-4o-mini  [tech-agent-service]  8.0 ms  CLIENT  gen_ai.usage.input_tokens=20"
        "  gen_ai.usage.output_tokens=5",
        "│   └── invoke_agent research_agent  [orchestrator]  50.0 ms  CLIENT  gen_ai.agent.remote=true"
        "  server.address=http://127.0.0.1:2/  ✗ ERROR: boom",
        "└── a2a-execution  [research-agent-service]  10.0 ms  SERVER  error.type=TimeoutError"
        "  (parent ffffffffffffffff not received)",
    ]
    assert "secret" not in text
    assert not is_connected(spans)
    assert is_connected(spans[:-1])


# -- the command line -----------------------------------------------------------------------------------------


def test_command_line_prints_each_trace_as_a_tree_and_stops_on_ctrl_c() -> None:
    command = [sys.executable, str(EXAMPLES / "trace_receiver.py"), "--grpc-port", "0", "--http-port", "0"]
    process = subprocess.Popen(
        [*command, "--quiet-ms", "100"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        banner = lines.get(timeout=30)
        assert banner is not None
        found = re.match(r"Receiving OTLP on (http://127\.0\.0\.1:\d+) \(gRPC\) and (http://127\.0\.0\.1:\d+)", banner)
        assert found, banner
        grpc_endpoint, http_endpoint = found.groups()
        emit_two_services(
            provider_for("client-service", GrpcSpanExporter(endpoint=grpc_endpoint, insecure=True)),
            provider_for("tech-agent-service", HttpSpanExporter(endpoint=http_endpoint + "/v1/traces")),
        )
        output = []
        while not any("chat gpt-4o-mini" in line for line in output):
            line = lines.get(timeout=30)
            assert line is not None, "\n".join(output)
            output.append(line)
        assert any(line.startswith("└── invoke_agent tech_agent  [client-service]") for line in output)
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        reader.join(10)


def test_one_service_is_counted_in_the_singular() -> None:
    text = render_trace([span("conversation a", "root", None, 0, 10)])
    assert "·  1 span  ·  1 service: orchestrator  ·" in text.splitlines()[0]
