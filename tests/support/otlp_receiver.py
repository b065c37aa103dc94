"""An OTLP trace receiver: real OTLP/gRPC and OTLP/HTTP (protobuf) in, spans decoded, grouped and rendered.

The tests' receiver of real exports, and the core of ``examples/trace_receiver.py`` and the demo:
``TraceReceiver`` (start/stop, endpoints, collected spans, waits, a callback per quiet trace, forwarding on to
another OTLP endpoint) and ``trace_tree`` / ``render_trace`` (a list of spans as a ``rich`` tree or as text).
Metrics and logs are accepted and dropped.
"""

from __future__ import annotations

import gzip
import io
import queue
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import grpc
import uvicorn
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from rich.console import Console
from rich.text import Text
from rich.tree import Tree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.support.port_holder import port_holder

__all__ = [
    "KEY_ATTRIBUTES",
    "Forwarder",
    "InvalidExport",
    "ReceivedSpan",
    "ReceiverStartError",
    "TraceReceiver",
    "decode_export",
    "group_by_trace",
    "is_connected",
    "make_console",
    "parse_export",
    "render_trace",
    "spans_as_json",
    "summarize",
    "trace_tree",
]

HOST = "127.0.0.1"
KEY_ATTRIBUTES: tuple[str, ...] = (
    "ag2.speaker_selection.selected",
    "gen_ai.agent.remote",
    "server.address",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "http.request.method",
    "http.route",
    "rpc.method",
    "http.response.status_code",
    "error.type",
)
"""Attributes shown on a span's line of the tree, when the span has them (``server.address`` not on SERVER spans)."""

TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
TRACE_EXPORT_METHOD = f"/{TRACE_SERVICE}/Export"
_PROTOBUF = "application/x-protobuf"
_STARTUP_TIMEOUT = 10.0
_SHUTDOWN_TIMEOUT = 10.0
_ID_LENGTHS = {"trace_id": 16, "span_id": 8}
_PIPE_WIDTH = 400
_SERVICE_STYLES = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan", "bright_magenta")


class InvalidExport(ValueError):
    """A payload that is not a valid OTLP ``ExportTraceServiceRequest``."""


class ReceiverStartError(RuntimeError):
    """The receiver could not listen (most often: the port is taken)."""


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as received, decoded to plain Python values (ids as lower-case hex)."""

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
    status_message: str = ""

    @property
    def duration_ms(self) -> float:
        """How long the span lasted, in milliseconds."""
        return max(self.end_ns - self.start_ns, 0) / 1e6


# -- decoding ---------------------------------------------------------------------------------------------------


def parse_export(body: bytes) -> trace_service_pb2.ExportTraceServiceRequest:
    """Parse (and check) a serialized ``ExportTraceServiceRequest``; ``InvalidExport`` says what is wrong."""
    request = trace_service_pb2.ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise InvalidExport(f"body is not a protobuf ExportTraceServiceRequest ({exc})") from exc
    _check_ids(request)
    return request


def _check_ids(request: trace_service_pb2.ExportTraceServiceRequest) -> None:
    """Raise ``InvalidExport`` for a span whose trace, span or parent id has the wrong length."""
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                for field, length in _ID_LENGTHS.items():
                    value = getattr(span, field)
                    if len(value) != length or not any(value):
                        raise InvalidExport(
                            f"span {span.name!r}: {field} must be {length} bytes, not all zero (got {value.hex()!r})"
                        )
                if span.parent_span_id and len(span.parent_span_id) != _ID_LENGTHS["span_id"]:
                    raise InvalidExport(f"span {span.name!r}: parent_span_id must be empty or 8 bytes")


def _decode_any_value(value: AnyValue) -> Any:
    """An OTLP ``AnyValue`` as the matching Python value."""
    which = value.WhichOneof("value")
    if which == "array_value":
        return tuple(_decode_any_value(item) for item in value.array_value.values)
    if which == "kvlist_value":
        return _decode_attributes(value.kvlist_value.values)
    return getattr(value, which) if which else None


def _decode_attributes(key_values: Sequence[KeyValue]) -> dict[str, Any]:
    """Repeated OTLP ``KeyValue`` as a dict."""
    return {kv.key: _decode_any_value(kv.value) for kv in key_values}


def _enum_name(enum_name: Callable[[int], str], number: int, prefix: str, default: str) -> str:
    """Name of a proto enum value without its prefix (``SPAN_KIND_SERVER`` -> ``SERVER``)."""
    try:
        return enum_name(number).removeprefix(prefix)
    except ValueError:
        return default


def _decode_span(span: Span, service_name: str, scope_name: str) -> ReceivedSpan:
    return ReceivedSpan(
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
        status_message=span.status.message,
    )


def decode_export(request: trace_service_pb2.ExportTraceServiceRequest) -> list[ReceivedSpan]:
    """Flatten an ``ExportTraceServiceRequest`` into ``ReceivedSpan`` objects."""
    spans: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        resource = _decode_attributes(resource_spans.resource.attributes)
        service_name = str(resource.get("service.name", ""))
        for scope_spans in resource_spans.scope_spans:
            spans.extend(_decode_span(span, service_name, scope_spans.scope.name) for span in scope_spans.spans)
    return spans


def _decompress(body: bytes, encoding: str) -> bytes:
    """``body`` with its ``Content-Encoding`` (gzip, deflate) undone; ``InvalidExport`` if it can't be."""
    encoding = encoding.strip().lower()
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidExport(f"body is not valid {encoding} data: {exc}") from exc
    if encoding not in ("", "identity"):
        raise InvalidExport(f"unsupported Content-Encoding: {encoding!r}")
    return body


# -- forwarding -------------------------------------------------------------------------------------------------


class Forwarder:
    """Sends every trace export on to another OTLP endpoint, from a background thread.

    ``endpoint`` is a base URL as in ``OTEL_EXPORTER_OTLP_ENDPOINT`` (``http://host:4317``); with
    ``protocol="http/protobuf"`` the exports go to ``endpoint + "/v1/traces"``. A failure is reported once per
    distinct error on stderr and never stops the receiver.
    """

    def __init__(self, endpoint: str, protocol: str = "grpc", timeout: float = 10.0) -> None:
        if protocol not in ("grpc", "http/protobuf"):
            raise ValueError(f"unsupported OTLP protocol for forwarding: {protocol!r} (use grpc or http/protobuf)")
        parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
        if not parts.hostname:
            raise ValueError(f"not an OTLP endpoint URL: {endpoint!r}")
        self.endpoint = endpoint
        self.protocol = protocol
        self.timeout = timeout
        self.sent = 0
        self.failed = 0
        self._parts = parts
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._errors_seen: set[str] = set()
        self._channel: grpc.Channel | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="otlp-forwarder", daemon=True)
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the exports go to."""
        default = 443 if self._parts.scheme == "https" else (4317 if self.protocol == "grpc" else 4318)
        return self._parts.hostname or "", self._parts.port or default

    def submit(self, body: bytes) -> None:
        """Queue one serialized ``ExportTraceServiceRequest`` for sending."""
        self._queue.put(body)

    def close(self, timeout: float = _SHUTDOWN_TIMEOUT) -> None:
        """Send what is queued (up to ``timeout`` seconds), then stop (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout)
        if self._channel is not None:
            self._channel.close()

    def _run(self) -> None:
        while (body := self._queue.get()) is not None:
            try:
                self._send(body)
                self.sent += 1
            except Exception as exc:  # a backend that is down must not stop the receiver
                self.failed += 1
                self._report(exc)

    def _send(self, body: bytes) -> None:
        if self.protocol == "grpc":
            self._send_grpc(body)
        else:
            self._send_http(body)

    def _send_grpc(self, body: bytes) -> None:
        if self._channel is None:
            target = f"{self.address[0]}:{self.address[1]}"
            secure = self._parts.scheme == "https"
            self._channel = (
                grpc.secure_channel(target, grpc.ssl_channel_credentials()) if secure else grpc.insecure_channel(target)
            )
        export = self._channel.unary_unary(TRACE_EXPORT_METHOD)  # raw bytes in, raw bytes out
        export(body, timeout=self.timeout)

    def _send_http(self, body: bytes) -> None:
        url = self.endpoint.rstrip("/") + "/v1/traces"
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": _PROTOBUF})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            response.read()

    def _report(self, exc: Exception) -> None:
        if isinstance(exc, grpc.RpcError):
            message = f"{exc.code().name}: {exc.details()}"  # type: ignore[attr-defined]
        elif isinstance(exc, urllib.error.HTTPError):
            message = f"HTTP {exc.code}: {exc.read().decode(errors='replace')[:200]}"
        else:
            message = str(exc) or type(exc).__name__
        if message not in self._errors_seen:
            self._errors_seen.add(message)
            print(f"trace_receiver: could not forward to {self.endpoint} ({message})", file=sys.stderr, flush=True)


# -- the receiver -----------------------------------------------------------------------------------------------


class _MetricsServicer(metrics_service_pb2_grpc.MetricsServiceServicer):
    """gRPC metrics service that accepts and drops everything."""

    def Export(
        self, request: metrics_service_pb2.ExportMetricsServiceRequest, context: grpc.ServicerContext
    ) -> metrics_service_pb2.ExportMetricsServiceResponse:
        return metrics_service_pb2.ExportMetricsServiceResponse()


class _LogsServicer(logs_service_pb2_grpc.LogsServiceServicer):
    """gRPC logs service that accepts and drops everything."""

    def Export(
        self, request: logs_service_pb2.ExportLogsServiceRequest, context: grpc.ServicerContext
    ) -> logs_service_pb2.ExportLogsServiceResponse:
        return logs_service_pb2.ExportLogsServiceResponse()


def _check_free(host: str, port: int, what: str) -> None:
    """Raise ``ReceiverStartError`` if ``host:port`` cannot be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ReceiverStartError(_cannot_listen(what, host, port, exc)) from None


def _cannot_listen(what: str, host: str, port: int, error: OSError) -> str:
    """Why ``host:port`` cannot be listened on, naming the program that holds it where that can be told."""
    holder = port_holder(port)
    held_by = f", held by {holder}" if holder else ""
    hint = " (Phoenix and OpenTelemetry collectors listen on 4317 and 4318 too)" if port in (4317, 4318) else ""
    return f"cannot listen for {what} on {host}:{port}: {error.strerror}{held_by}{hint}"


def _protobuf_response(body: bytes) -> Response:
    return Response(content=body, media_type=_PROTOBUF)


_EMPTY_TRACE_RESPONSE = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()


class TraceReceiver:
    """OTLP/gRPC + OTLP/HTTP (protobuf) receiver that collects trace spans in memory.

    Ports 0 (the default) pick free ports. ``on_trace(trace_id, spans)`` is called from a background thread once
    a trace is quiet: no new span for ``quiet_ms`` and every span's parent received, or no new span for
    ``incomplete_ms`` whatever it lacks. If more spans of it arrive later, it is handed over again with all its
    spans. Use as a context manager, or call ``start()`` / ``stop()``.
    """

    def __init__(
        self,
        *,
        host: str = HOST,
        grpc_port: int = 0,
        http_port: int = 0,
        on_trace: Callable[[str, list[ReceivedSpan]], None] | None = None,
        quiet_ms: float = 1000.0,
        incomplete_ms: float = 10_000.0,
        forwarder: Forwarder | None = None,
    ) -> None:
        self.host = host
        self.quiet_ms = quiet_ms
        self.incomplete_ms = incomplete_ms
        self._requested_ports = (grpc_port, http_port)
        self._on_trace = on_trace
        self._forwarder = forwarder
        self._condition = threading.Condition()
        self._spans: list[ReceivedSpan] = []
        self._by_trace: dict[str, list[ReceivedSpan]] = defaultdict(list)
        self._pending: dict[str, float] = {}  # trace id -> monotonic time of its latest span, until reported
        self._last_arrival = 0.0
        self._stopping = False
        self._watcher: threading.Thread | None = None
        self._grpc_server: grpc.Server | None = None
        self._grpc_port: int | None = None
        self._http_server: uvicorn.Server | None = None
        self._http_thread: threading.Thread | None = None
        self._http_socket: socket.socket | None = None
        self._http_port: int | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def __enter__(self) -> TraceReceiver:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start both servers; returns once both accept connections. ``ReceiverStartError`` if a port is taken."""
        if self._grpc_server is not None or self._http_server is not None:
            raise RuntimeError("TraceReceiver already started")
        self._stopping = False
        try:
            self._start_grpc(self._requested_ports[0])
            self._start_http(self._requested_ports[1])
        except BaseException:
            self.stop()
            raise
        if self._forwarder is not None and self._forwarder.address in self._own_addresses():
            self.stop()
            raise ReceiverStartError(f"refusing to forward to the receiver itself ({self._forwarder.endpoint})")
        if self._on_trace is not None:
            self._watcher = threading.Thread(target=self._watch_quiet_traces, name="otlp-receiver-quiet", daemon=True)
            self._watcher.start()

    def stop(self, grace: float = 1.0) -> None:
        """Stop both servers, report traces still pending, send what is left to forward (idempotent)."""
        if self._grpc_server is not None:
            self._grpc_server.stop(grace).wait(_SHUTDOWN_TIMEOUT)
            self._grpc_server = None
        self._stop_http()
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._watcher is not None:
            self._watcher.join(_SHUTDOWN_TIMEOUT)
            self._watcher = None
        if self._forwarder is not None:
            self._forwarder.close()

    def _stop_http(self) -> None:
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

    def _own_addresses(self) -> set[tuple[str, int]]:
        hosts = {self.host, "localhost", "127.0.0.1"} if self.host in ("127.0.0.1", "localhost") else {self.host}
        return {(host, port) for host in hosts for port in (self._grpc_port, self._http_port) if port}

    def _start_grpc(self, port: int) -> None:
        # without so_reuseport=0 a second server could silently share a taken port
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="otlp-receiver-grpc"),
            options=[("grpc.so_reuseport", 0)],
        )
        export = grpc.unary_unary_rpc_method_handler(self._grpc_export)  # raw bytes: we parse and reply ourselves
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(TRACE_SERVICE, {"Export": export}),))
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_MetricsServicer(), server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_LogsServicer(), server)
        if port:
            _check_free(self.host, port, "OTLP/gRPC")  # grpc's own bind error is cryptic and logged on stderr
        try:
            bound = server.add_insecure_port(f"{self.host}:{port}")
        except RuntimeError:
            bound = 0
        if bound == 0:
            raise ReceiverStartError(f"cannot listen for OTLP/gRPC on {self.host}:{port}")
        server.start()
        self._grpc_server = server
        self._grpc_port = bound

    def _start_http(self, port: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, port))
        except OSError as exc:
            sock.close()
            raise ReceiverStartError(_cannot_listen("OTLP/HTTP", self.host, port, exc)) from None
        sock.listen(128)
        sock.setblocking(False)
        self._http_socket = sock
        self._http_port = sock.getsockname()[1]

        config = uvicorn.Config(
            self._http_app(), lifespan="off", log_config=None, log_level="warning", access_log=False
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="otlp-receiver-http", daemon=True)
        self._http_server = server
        self._http_thread = thread
        thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not server.started:  # uvicorn offers no event: join() doubles as a wait that ends if the thread dies
            if not thread.is_alive():
                raise ReceiverStartError("the OTLP/HTTP receiver thread exited during startup")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReceiverStartError(f"the OTLP/HTTP receiver did not start within {_STARTUP_TIMEOUT}s")
            thread.join(min(0.05, remaining))

    # -- the two protocols ---------------------------------------------------------------------------------------

    def _grpc_export(self, body: bytes, context: grpc.ServicerContext) -> bytes:
        try:
            self._accept(body)
        except InvalidExport as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid OTLP trace export: {exc}")
        return _EMPTY_TRACE_RESPONSE

    def _http_app(self) -> Starlette:
        async def traces(request: Request) -> Response:
            content_type = request.headers.get("content-type", _PROTOBUF).split(";")[0].strip().lower()
            if content_type == "application/json":
                return PlainTextResponse(
                    "OTLP/HTTP JSON is not supported here: export with http/protobuf", status_code=415
                )
            try:
                self._accept(_decompress(await request.body(), request.headers.get("content-encoding", "")))
            except InvalidExport as exc:
                return PlainTextResponse(f"Invalid OTLP trace export: {exc}", status_code=400)
            return _protobuf_response(_EMPTY_TRACE_RESPONSE)

        async def metrics(request: Request) -> Response:
            await request.body()
            return _protobuf_response(metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString())

        async def logs(request: Request) -> Response:
            await request.body()
            return _protobuf_response(logs_service_pb2.ExportLogsServiceResponse().SerializeToString())

        return Starlette(
            routes=[
                Route("/v1/traces", traces, methods=["POST"]),
                Route("/v1/metrics", metrics, methods=["POST"]),
                Route("/v1/logs", logs, methods=["POST"]),
            ]
        )

    def _accept(self, body: bytes) -> None:
        """Decode, record and (if asked) forward one serialized trace export."""
        received = decode_export(parse_export(body))
        if self._forwarder is not None and received:
            self._forwarder.submit(body)
        self._record(received)

    def _record(self, received: list[ReceivedSpan]) -> None:
        if not received:
            return
        now = time.monotonic()
        with self._condition:
            self._spans.extend(received)
            for span in received:
                self._by_trace[span.trace_id].append(span)
                self._pending[span.trace_id] = now
            self._last_arrival = now
            self._condition.notify_all()

    # -- quiet traces --------------------------------------------------------------------------------------------

    def _watch_quiet_traces(self) -> None:
        """Hand each trace to ``on_trace`` once it is quiet (all pending ones at stop)."""
        assert self._on_trace is not None
        while True:
            with self._condition:
                due, wake_at = self._due_traces()
                while not due and not self._stopping:
                    self._condition.wait(None if wake_at is None else max(wake_at - time.monotonic(), 0))
                    due, wake_at = self._due_traces()
                stopping = self._stopping
                if stopping:
                    due = list(self._pending)
                for trace_id in due:
                    del self._pending[trace_id]
                ready = [(trace_id, list(self._by_trace[trace_id])) for trace_id in due]
            for trace_id, spans in ready:
                self._on_trace(trace_id, spans)
            if stopping:
                return

    def _due_traces(self) -> tuple[list[str], float | None]:
        """Pending traces that are quiet now, and when the next one will be.

        A trace is quiet ``quiet_ms`` after its latest span once every span's parent has arrived (so its root
        has ended), and ``incomplete_ms`` after it otherwise.
        """
        now = time.monotonic()
        due: list[str] = []
        wake_at: float | None = None
        for trace_id, seen in self._pending.items():
            wait = self.quiet_ms if is_connected(self._by_trace[trace_id]) else self.incomplete_ms
            quiet_at = seen + wait / 1000
            if quiet_at <= now:
                due.append(trace_id)
            elif wake_at is None or quiet_at < wake_at:
                wake_at = quiet_at
        return due, wake_at

    # -- collected data ------------------------------------------------------------------------------------------

    @property
    def forwarder(self) -> Forwarder | None:
        """Where every trace export is also sent, if anywhere."""
        return self._forwarder

    @property
    def grpc_endpoint(self) -> str:
        """``http://HOST:PORT`` of the OTLP/gRPC server."""
        if self._grpc_port is None:
            raise RuntimeError("the receiver is not started")
        return f"http://{self.host}:{self._grpc_port}"

    @property
    def http_endpoint(self) -> str:
        """Base ``http://HOST:PORT`` of the OTLP/HTTP server (signal paths are ``/v1/traces`` etc.)."""
        if self._http_port is None:
            raise RuntimeError("the receiver is not started")
        return f"http://{self.host}:{self._http_port}"

    @property
    def spans(self) -> list[ReceivedSpan]:
        """Snapshot of the spans received so far, in arrival order."""
        with self._condition:
            return list(self._spans)

    def traces(self) -> dict[str, list[ReceivedSpan]]:
        """Snapshot of the spans received so far, grouped by trace id (in order of first arrival)."""
        with self._condition:
            return {trace_id: list(spans) for trace_id, spans in self._by_trace.items()}

    def clear(self) -> None:
        """Forget all spans received so far."""
        with self._condition:
            self._spans.clear()
            self._by_trace.clear()
            self._pending.clear()

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
                    raise TimeoutError(f"condition not met within {timeout}s; {summarize(snapshot)}")
                self._condition.wait(remaining)

    def wait_until_quiet(self, quiet: float, timeout: float = 30.0) -> list[ReceivedSpan]:
        """Block until no span has arrived for ``quiet`` seconds and return the spans; ``TimeoutError`` if never."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while (idle := time.monotonic() - self._last_arrival) < quiet:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"spans kept arriving for {timeout}s; {summarize(self._spans)}")
                self._condition.wait(min(quiet - idle, remaining))
            return list(self._spans)


def summarize(spans: Sequence[ReceivedSpan]) -> str:
    """``N span(s) received: 'a' x2, 'b'`` (for error messages)."""
    if not spans:
        return "no spans received"
    counts = Counter(span.name for span in spans)
    names = ", ".join(f"{name!r} x{count}" if count > 1 else repr(name) for name, count in counts.items())
    return f"{len(spans)} span(s) received: {names}"


# -- rendering --------------------------------------------------------------------------------------------------


def is_connected(spans: Iterable[ReceivedSpan]) -> bool:
    """Whether every span's parent is among ``spans`` (so the trace is one tree whose root has arrived)."""
    spans = list(spans)
    ids = {span.span_id for span in spans}
    return bool(spans) and all(span.parent_span_id is None or span.parent_span_id in ids for span in spans)


def group_by_trace(spans: Iterable[ReceivedSpan]) -> dict[str, list[ReceivedSpan]]:
    """Spans grouped by trace id, in order of first appearance."""
    grouped: dict[str, list[ReceivedSpan]] = defaultdict(list)
    for span in spans:
        grouped[span.trace_id].append(span)
    return dict(grouped)


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_format_value(item) for item in value) + "]"
    return str(value)


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _span_label(span: ReceivedSpan, styles: dict[str, str], attributes: Sequence[str], orphan: bool) -> Text:
    """One line of the tree: name, [service], duration, kind, key attributes, error status."""
    label = Text.assemble(
        (span.name, "bold"),
        "  ",
        (f"[{span.service_name or '?'}]", styles.get(span.service_name, "")),
        "  ",
        (f"{span.duration_ms:.1f} ms", "dim"),
    )
    if span.kind not in ("INTERNAL", "UNSPECIFIED"):
        label.append(f"  {span.kind}", "italic")
    for key in attributes:
        if key == "server.address" and span.kind == "SERVER":
            continue  # on a server span it is the server's own host: noise in a tree
        if key in span.attributes:
            label.append(f"  {key}={_format_value(span.attributes[key])}", "red" if key == "error.type" else "")
    if span.status_code == "ERROR":
        label.append("  ✗ ERROR" + (f": {span.status_message}" if span.status_message else ""), "bold red")
    if orphan:
        label.append(f"  (parent {span.parent_span_id} not received)", "yellow")
    return label


def trace_tree(
    spans: Sequence[ReceivedSpan],
    *,
    attributes: Sequence[str] = KEY_ATTRIBUTES,
    title: str | None = None,
    title_suffix: str = "",
) -> Tree:
    """The spans of one trace as a ``rich`` tree: children under their parent, in start order.

    A span whose parent did not arrive is shown at the top level and marked.
    """
    services = sorted({span.service_name for span in spans})
    styles = {service: _SERVICE_STYLES[i % len(_SERVICE_STYLES)] for i, service in enumerate(services)}
    if title is None:
        trace_ids = sorted({span.trace_id for span in spans})
        start = min((span.start_ns for span in spans), default=0)
        end = max((span.end_ns for span in spans), default=0)
        title = (
            f"trace {', '.join(trace_ids) or '-'}  ·  {_counted(len(spans), 'span')}  ·  "
            f"{_counted(len(services), 'service')}: {', '.join(services)}  ·  {(end - start) / 1e6:.1f} ms"
        )
    tree = Tree(Text.assemble((title, "bold"), (title_suffix, "yellow")), guide_style="dim")
    ids = {span.span_id for span in spans}
    children: dict[str | None, list[ReceivedSpan]] = defaultdict(list)
    for span in spans:
        children[span.parent_span_id if span.parent_span_id in ids else None].append(span)

    def add(branch: Tree, span: ReceivedSpan) -> None:
        orphan = span.parent_span_id is not None and span.parent_span_id not in ids
        node = branch.add(_span_label(span, styles, attributes, orphan))
        for child in sorted(children[span.span_id], key=lambda s: (s.start_ns, s.end_ns)):
            add(node, child)

    for root in sorted(children[None], key=lambda s: (s.start_ns, s.end_ns)):
        add(tree, root)
    return tree


def render_trace(spans: Sequence[ReceivedSpan], *, width: int = _PIPE_WIDTH, **options: Any) -> str:
    """The spans of one trace as plain text (no colour; lines up to ``width`` characters are not wrapped)."""
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, force_terminal=False).print(trace_tree(spans, **options))
    return buffer.getvalue()


def make_console(**options: Any) -> Console:
    """A console for trees: the terminal's width on a terminal, one unwrapped line per span in a pipe or file."""
    console = Console(highlight=False, **options)
    if console.is_terminal:
        return console
    return Console(highlight=False, width=_PIPE_WIDTH, **options)


def spans_as_json(spans: Sequence[ReceivedSpan]) -> list[dict[str, Any]]:
    """The spans as JSON-ready dicts (bytes as hex, tuples as lists)."""

    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.hex()
        if isinstance(value, (tuple, list)):
            return [plain(item) for item in value]
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        return value

    return [
        {
            "name": span.name,
            "trace_id": span.trace_id,
            "span_id": span.span_id,
            "parent_span_id": span.parent_span_id,
            "kind": span.kind,
            "service": span.service_name,
            "status": span.status_code,
            "start_time_unix_nano": span.start_ns,
            "duration_ms": round(span.duration_ms, 3),
            "attributes": plain(span.attributes),
        }
        for span in spans
    ]


def children(span: ReceivedSpan, spans: Iterable[ReceivedSpan]) -> list[ReceivedSpan]:
    """The direct children of ``span`` among ``spans``, in start order."""
    return sorted((s for s in spans if s.parent_span_id == span.span_id), key=lambda s: s.start_ns)


def subtree(span: ReceivedSpan, spans: Sequence[ReceivedSpan]) -> list[ReceivedSpan]:
    """``span`` and every span beneath it."""
    below = [span]
    for child in children(span, spans):
        below += subtree(child, spans)
    return below


def only(found: Sequence[ReceivedSpan]) -> ReceivedSpan:
    """The one span of ``found``."""
    assert len(found) == 1, [s.name for s in found]
    return found[0]


def one_trace(spans: Sequence[ReceivedSpan], names: set[str], of_names: str = "") -> ReceivedSpan:
    """The root of ``spans``, once they are checked to be one trace (across all services) of spans with exactly
    these ``names`` (``of_names`` says why, if the test has a reason to give)."""
    assert len({s.trace_id for s in spans}) == 1, "one trace across both services"
    assert {s.name for s in spans} == names, of_names
    return only([s for s in spans if s.parent_span_id is None])


def at_least(counts: dict[str, int]) -> Callable[[Sequence[ReceivedSpan]], bool]:
    """A ``wait_for`` condition: at least ``counts[name]`` spans of each of these names have arrived."""

    def arrived(spans: Sequence[ReceivedSpan]) -> bool:
        names = Counter(span.name for span in spans)
        return all(names[name] >= count for name, count in counts.items())

    return arrived
