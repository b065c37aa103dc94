"""The in-test OTLP receiver, driven by the real SDK OTLP exporters over gRPC and HTTP."""

from __future__ import annotations

import gzip
import os
import socket
import time
from collections.abc import Callable, Iterator

import grpc
import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from tests.support.otlp_receiver import ReceivedSpan, ReceiverStartError, TraceReceiver


@pytest.fixture
def receiver() -> Iterator[TraceReceiver]:
    with TraceReceiver() as running:
        yield running


def _emit_parent_and_child(exporter: SpanExporter, service_name: str, *, batch: bool) -> tuple[str, str, str]:
    """Export a SERVER parent and an erroring child; returns (trace_id, parent_id, child_id) in hex."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("tests.otlp_receiver")
    try:
        with tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent:
            parent.set_attribute("text", "hello")
            parent.set_attribute("flag", True)
            parent.set_attribute("count", 42)
            parent.set_attribute("ratio", 0.25)
            parent.set_attribute("tags", ["a", "b"])
            with tracer.start_as_current_span("child", record_exception=False, set_status_on_exception=False) as child:
                child.set_attribute("step", 1)
                child.record_exception(ValueError("boom"))
                child.set_status(Status(StatusCode.ERROR, "boom"))
        assert provider.force_flush(10_000)
    finally:
        provider.shutdown()
    parent_ctx = parent.get_span_context()
    child_ctx = child.get_span_context()
    return (
        format(parent_ctx.trace_id, "032x"),
        format(parent_ctx.span_id, "016x"),
        format(child_ctx.span_id, "016x"),
    )


def _check_spans(spans: list[ReceivedSpan], service_name: str, ids: tuple[str, str, str]) -> None:
    trace_id, parent_id, child_id = ids
    by_name = {span.name: span for span in spans if span.service_name == service_name}
    parent, child = by_name["parent"], by_name["child"]

    assert parent.trace_id == trace_id
    assert child.trace_id == trace_id
    assert len(parent.trace_id) == 32
    assert parent.span_id == parent_id
    assert len(parent.span_id) == 16
    assert child.span_id == child_id
    assert parent.parent_span_id is None
    assert child.parent_span_id == parent_id

    assert parent.kind == "SERVER"
    assert child.kind == "INTERNAL"
    assert parent.status_code == "UNSET"
    assert child.status_code == "ERROR"

    assert parent.attributes == {"text": "hello", "flag": True, "count": 42, "ratio": 0.25, "tags": ("a", "b")}
    assert child.attributes == {"step": 1}
    assert type(parent.attributes["count"]) is int
    assert type(parent.attributes["ratio"]) is float

    assert parent.events == ()
    assert child.events == ("exception",)
    assert parent.scope_name == "tests.otlp_receiver"
    assert 0 < parent.start_ns <= child.start_ns <= child.end_ns <= parent.end_ns


def _has_parent_and_child(service_name: str) -> Callable[[list[ReceivedSpan]], bool]:
    def predicate(spans: list[ReceivedSpan]) -> bool:
        names = {span.name for span in spans if span.service_name == service_name}
        return {"parent", "child"} <= names

    return predicate


@pytest.mark.timeout(60)
@pytest.mark.parametrize("batch", [False, True], ids=["simple", "batch"])
def test_grpc_export_is_decoded(receiver: TraceReceiver, batch: bool) -> None:
    exporter = GrpcSpanExporter(endpoint=receiver.grpc_endpoint, insecure=True)
    ids = _emit_parent_and_child(exporter, "grpc-service", batch=batch)

    spans = receiver.wait_for(_has_parent_and_child("grpc-service"), timeout=20)

    _check_spans(spans, "grpc-service", ids)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("batch", [False, True], ids=["simple", "batch"])
def test_http_export_is_decoded(receiver: TraceReceiver, batch: bool) -> None:
    exporter = HttpSpanExporter(endpoint=receiver.http_endpoint + "/v1/traces")
    ids = _emit_parent_and_child(exporter, "http-service", batch=batch)

    spans = receiver.wait_for(_has_parent_and_child("http-service"), timeout=20)

    _check_spans(spans, "http-service", ids)


@pytest.mark.timeout(60)
def test_http_gzip_export_is_decoded(receiver: TraceReceiver) -> None:
    exporter = HttpSpanExporter(endpoint=receiver.http_endpoint + "/v1/traces", compression=Compression.Gzip)
    ids = _emit_parent_and_child(exporter, "gzip-service", batch=False)

    spans = receiver.wait_for(_has_parent_and_child("gzip-service"), timeout=20)

    _check_spans(spans, "gzip-service", ids)


@pytest.mark.timeout(60)
def test_both_protocols_into_one_receiver(receiver: TraceReceiver) -> None:
    grpc_ids = _emit_parent_and_child(
        GrpcSpanExporter(endpoint=receiver.grpc_endpoint, insecure=True), "svc-grpc", batch=False
    )
    http_ids = _emit_parent_and_child(
        HttpSpanExporter(endpoint=receiver.http_endpoint + "/v1/traces"), "svc-http", batch=False
    )

    spans = receiver.wait_for(lambda spans: len(spans) >= 4, timeout=20)

    assert len(spans) == 4
    _check_spans(spans, "svc-grpc", grpc_ids)
    _check_spans(spans, "svc-http", http_ids)
    assert grpc_ids[0] != http_ids[0]


@pytest.mark.timeout(60)
def test_malformed_http_body_is_rejected_and_receiver_keeps_running(receiver: TraceReceiver) -> None:
    url = receiver.http_endpoint + "/v1/traces"
    headers = {"Content-Type": "application/x-protobuf"}

    bad = httpx.post(url, content=b"\xff\xff\xff\xff not protobuf", headers=headers, timeout=10)
    assert bad.status_code == 400
    assert "ExportTraceServiceRequest" in bad.text

    bad_gzip = httpx.post(url, content=b"not gzip", headers={**headers, "Content-Encoding": "gzip"}, timeout=10)
    assert bad_gzip.status_code == 400
    assert "gzip" in bad_gzip.text

    empty = httpx.post(url, content=gzip.compress(b""), headers={**headers, "Content-Encoding": "gzip"}, timeout=10)
    assert empty.status_code == 200
    assert empty.headers["content-type"] == "application/x-protobuf"
    trace_service_pb2.ExportTraceServiceResponse().ParseFromString(empty.content)
    assert receiver.spans == []

    ids = _emit_parent_and_child(HttpSpanExporter(endpoint=url), "after-bad", batch=False)
    spans = receiver.wait_for(_has_parent_and_child("after-bad"), timeout=20)
    _check_spans(spans, "after-bad", ids)


@pytest.mark.timeout(60)
def test_http_metrics_and_logs_are_accepted(receiver: TraceReceiver) -> None:
    headers = {"Content-Type": "application/x-protobuf"}
    for path, request, response_type in (
        (
            "/v1/metrics",
            metrics_service_pb2.ExportMetricsServiceRequest(),
            metrics_service_pb2.ExportMetricsServiceResponse,
        ),
        ("/v1/logs", logs_service_pb2.ExportLogsServiceRequest(), logs_service_pb2.ExportLogsServiceResponse),
    ):
        response = httpx.post(
            receiver.http_endpoint + path, content=request.SerializeToString(), headers=headers, timeout=10
        )
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "application/x-protobuf"
        response_type().ParseFromString(response.content)
    assert receiver.spans == []


@pytest.mark.timeout(60)
def test_grpc_metrics_and_logs_are_accepted(receiver: TraceReceiver) -> None:
    target = receiver.grpc_endpoint.removeprefix("http://")
    with grpc.insecure_channel(target) as channel:
        metrics_stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
        logs_stub = logs_service_pb2_grpc.LogsServiceStub(channel)
        assert isinstance(
            metrics_stub.Export(metrics_service_pb2.ExportMetricsServiceRequest(), timeout=10),
            metrics_service_pb2.ExportMetricsServiceResponse,
        )
        assert isinstance(
            logs_stub.Export(logs_service_pb2.ExportLogsServiceRequest(), timeout=10),
            logs_service_pb2.ExportLogsServiceResponse,
        )


@pytest.mark.timeout(60)
def test_wait_for_times_out_quickly_with_summary(receiver: TraceReceiver) -> None:
    _emit_parent_and_child(
        GrpcSpanExporter(endpoint=receiver.grpc_endpoint, insecure=True), "timeout-service", batch=False
    )
    receiver.wait_for(lambda spans: len(spans) >= 2, timeout=20)

    started = time.monotonic()
    with pytest.raises(TimeoutError) as excinfo:
        receiver.wait_for(lambda spans: any(span.name == "never" for span in spans), timeout=0.5)
    elapsed = time.monotonic() - started

    assert 0.4 <= elapsed < 5
    assert "'parent'" in str(excinfo.value)
    assert "'child'" in str(excinfo.value)


@pytest.mark.timeout(60)
def test_wait_for_on_empty_receiver_times_out() -> None:
    with TraceReceiver() as receiver, pytest.raises(TimeoutError, match="no spans received"):
        receiver.wait_for(lambda spans: bool(spans), timeout=0.5)
    receiver.stop()  # idempotent
    with pytest.raises(httpx.TransportError):
        httpx.post(receiver.http_endpoint + "/v1/traces", content=b"", timeout=5)


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_a_taken_port_is_named_with_the_program_holding_it(protocol):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        ports = {"grpc_port": port, "http_port": 0} if protocol == "grpc" else {"grpc_port": 0, "http_port": port}
        with pytest.raises(ReceiverStartError) as refused:
            TraceReceiver(**ports).start()

    message = str(refused.value)
    assert f"127.0.0.1:{port}" in message
    assert f"held by pid {os.getpid()}: " in message
