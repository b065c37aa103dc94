"""An in-test OTLP trace receiver: OTLP/gRPC and OTLP/HTTP (protobuf) on 127.0.0.1, spans collected in memory.

Usage::

    with OTLPReceiver() as receiver:
        # point an exporter at receiver.grpc_endpoint or receiver.http_endpoint (+ "/v1/traces")
        spans = receiver.wait_for(lambda spans: any(s.name == "root" for s in spans))
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import grpc
import uvicorn
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

_HOST = "127.0.0.1"
_STARTUP_TIMEOUT = 10.0
_SHUTDOWN_TIMEOUT = 10.0
_PROTOBUF = "application/x-protobuf"


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as received by the OTLP receiver, decoded to plain Python values."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    kind: str
    attributes: dict[str, Any]
    status_code: str
    service_name: str
    scope_name: str
    start_ns: int
    end_ns: int
    events: tuple[str, ...]


def _decode_any_value(value: AnyValue) -> Any:
    """Convert an OTLP ``AnyValue`` to the matching Python value."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "bool_value":
        return value.bool_value
    if which == "int_value":
        return value.int_value
    if which == "double_value":
        return value.double_value
    if which == "bytes_value":
        return value.bytes_value
    if which == "array_value":
        return tuple(_decode_any_value(item) for item in value.array_value.values)
    if which == "kvlist_value":
        return _decode_attributes(value.kvlist_value.values)
    return None


def _decode_attributes(key_values: Sequence[KeyValue]) -> dict[str, Any]:
    """Convert repeated OTLP ``KeyValue`` to a dict."""
    return {kv.key: _decode_any_value(kv.value) for kv in key_values}


def _enum_name(enum_name: Callable[[int], str], number: int, prefix: str, default: str) -> str:
    """Name of a proto enum value without its prefix (``SPAN_KIND_SERVER`` -> ``SERVER``)."""
    try:
        return enum_name(number).removeprefix(prefix)
    except ValueError:
        return default


def _decode_request(request: trace_service_pb2.ExportTraceServiceRequest) -> list[ReceivedSpan]:
    """Flatten an ``ExportTraceServiceRequest`` into ``ReceivedSpan`` objects."""
    spans: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        resource_attributes = _decode_attributes(resource_spans.resource.attributes)
        service_name = str(resource_attributes.get("service.name", ""))
        for scope_spans in resource_spans.scope_spans:
            scope_name = scope_spans.scope.name
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex() or None,
                        kind=_enum_name(Span.SpanKind.Name, span.kind, "SPAN_KIND_", "UNSPECIFIED"),
                        attributes=_decode_attributes(span.attributes),
                        status_code=_enum_name(Status.StatusCode.Name, span.status.code, "STATUS_CODE_", "UNSET"),
                        service_name=service_name,
                        scope_name=scope_name,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        events=tuple(event.name for event in span.events),
                    )
                )
    return spans


class _TraceServicer(trace_service_pb2_grpc.TraceServiceServicer):
    """gRPC trace service that hands every request to the receiver."""

    def __init__(self, receiver: OTLPReceiver) -> None:
        self._receiver = receiver

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        self._receiver._record(request)
        return trace_service_pb2.ExportTraceServiceResponse()


class _MetricsServicer(metrics_service_pb2_grpc.MetricsServiceServicer):
    """gRPC metrics service that accepts and ignores everything."""

    def Export(
        self, request: metrics_service_pb2.ExportMetricsServiceRequest, context: grpc.ServicerContext
    ) -> metrics_service_pb2.ExportMetricsServiceResponse:
        return metrics_service_pb2.ExportMetricsServiceResponse()


class _LogsServicer(logs_service_pb2_grpc.LogsServiceServicer):
    """gRPC logs service that accepts and ignores everything."""

    def Export(
        self, request: logs_service_pb2.ExportLogsServiceRequest, context: grpc.ServicerContext
    ) -> logs_service_pb2.ExportLogsServiceResponse:
        return logs_service_pb2.ExportLogsServiceResponse()


def _protobuf_response(message: Message) -> Response:
    return Response(content=message.SerializeToString(), media_type=_PROTOBUF)


async def _read_body(request: Request) -> bytes:
    """Request body with any ``Content-Encoding`` (gzip, deflate) undone; raises ``ValueError`` if it can't be."""
    body = await request.body()
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"body is not valid {encoding} data: {exc}") from exc
    if encoding not in ("", "identity"):
        raise ValueError(f"unsupported Content-Encoding: {encoding!r}")
    return body


class OTLPReceiver:
    """OTLP/gRPC + OTLP/HTTP (protobuf) receiver on 127.0.0.1 ephemeral ports that collects trace spans.

    Metrics and logs are accepted and ignored on both protocols. Use as a context manager, or call
    ``start()`` / ``stop()``.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._spans: list[ReceivedSpan] = []
        self._grpc_server: grpc.Server | None = None
        self._grpc_port: int | None = None
        self._http_server: uvicorn.Server | None = None
        self._http_thread: threading.Thread | None = None
        self._http_socket: socket.socket | None = None
        self._http_port: int | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def __enter__(self) -> OTLPReceiver:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start both servers; returns once both accept connections."""
        if self._grpc_server is not None or self._http_server is not None:
            raise RuntimeError("OTLPReceiver already started")
        try:
            self._start_grpc()
            self._start_http()
        except BaseException:
            self.stop()
            raise

    def stop(self, grace: float = 1.0) -> None:
        """Stop both servers (idempotent)."""
        if self._grpc_server is not None:
            self._grpc_server.stop(grace).wait(_SHUTDOWN_TIMEOUT)
            self._grpc_server = None
        if self._http_server is not None:
            self._http_server.should_exit = True
        if self._http_thread is not None:
            self._http_thread.join(_SHUTDOWN_TIMEOUT)
            if self._http_thread.is_alive() and self._http_server is not None:
                self._http_server.force_exit = True
                self._http_thread.join(_SHUTDOWN_TIMEOUT)
            self._http_thread = None
        self._http_server = None
        if self._http_socket is not None:
            self._http_socket.close()
            self._http_socket = None

    def _start_grpc(self) -> None:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="otlp-receiver-grpc"))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceServicer(self), server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_MetricsServicer(), server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_LogsServicer(), server)
        port = server.add_insecure_port(f"{_HOST}:0")
        if port == 0:
            raise RuntimeError(f"could not bind the OTLP gRPC receiver on {_HOST}")
        server.start()
        self._grpc_server = server
        self._grpc_port = port

    def _start_http(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((_HOST, 0))
        sock.listen(128)
        sock.setblocking(False)
        self._http_socket = sock
        self._http_port = sock.getsockname()[1]

        config = uvicorn.Config(
            self._http_app(),
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="otlp-receiver-http", daemon=True)
        self._http_server = server
        self._http_thread = thread
        thread.start()

        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the OTLP HTTP receiver thread exited during startup")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"the OTLP HTTP receiver did not start within {_STARTUP_TIMEOUT}s")
            thread.join(min(0.05, remaining))

    def _http_app(self) -> Starlette:
        async def traces(request: Request) -> Response:
            try:
                body = await _read_body(request)
            except ValueError as exc:
                return PlainTextResponse(f"Invalid OTLP trace export: {exc}", status_code=400)
            export_request = trace_service_pb2.ExportTraceServiceRequest()
            try:
                export_request.ParseFromString(body)
            except DecodeError as exc:
                return PlainTextResponse(
                    f"Invalid OTLP trace export: body is not a protobuf ExportTraceServiceRequest ({exc})",
                    status_code=400,
                )
            self._record(export_request)
            return _protobuf_response(trace_service_pb2.ExportTraceServiceResponse())

        async def metrics(request: Request) -> Response:
            await request.body()
            return _protobuf_response(metrics_service_pb2.ExportMetricsServiceResponse())

        async def logs(request: Request) -> Response:
            await request.body()
            return _protobuf_response(logs_service_pb2.ExportLogsServiceResponse())

        return Starlette(
            routes=[
                Route("/v1/traces", traces, methods=["POST"]),
                Route("/v1/metrics", metrics, methods=["POST"]),
                Route("/v1/logs", logs, methods=["POST"]),
            ]
        )

    # -- collected data ------------------------------------------------------------------------------------------

    @property
    def grpc_endpoint(self) -> str:
        """``http://127.0.0.1:PORT`` of the OTLP/gRPC server."""
        if self._grpc_port is None:
            raise RuntimeError("OTLPReceiver is not started")
        return f"http://{_HOST}:{self._grpc_port}"

    @property
    def http_endpoint(self) -> str:
        """Base ``http://127.0.0.1:PORT`` of the OTLP/HTTP server (signal paths are ``/v1/traces`` etc.)."""
        if self._http_port is None:
            raise RuntimeError("OTLPReceiver is not started")
        return f"http://{_HOST}:{self._http_port}"

    @property
    def spans(self) -> list[ReceivedSpan]:
        """Snapshot of the spans received so far, in arrival order."""
        with self._condition:
            return list(self._spans)

    def clear(self) -> None:
        """Forget all spans received so far."""
        with self._condition:
            self._spans.clear()

    def wait_for(self, predicate: Callable[[list[ReceivedSpan]], bool], timeout: float = 30.0) -> list[ReceivedSpan]:
        """Block until ``predicate(spans)`` is true and return that snapshot; ``TimeoutError`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                snapshot = list(self._spans)
                if predicate(snapshot):
                    return snapshot
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout}s; {self._summary(snapshot)}")
                self._condition.wait(remaining)

    @staticmethod
    def _summary(spans: list[ReceivedSpan]) -> str:
        if not spans:
            return "no spans received"
        counts = Counter(span.name for span in spans)
        names = ", ".join(f"{name!r} x{count}" if count > 1 else repr(name) for name, count in counts.items())
        return f"{len(spans)} span(s) received: {names}"

    def _record(self, request: trace_service_pb2.ExportTraceServiceRequest) -> None:
        received = _decode_request(request)
        with self._condition:
            self._spans.extend(received)
            self._condition.notify_all()
