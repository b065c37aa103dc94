"""Real AG2 1.x A2A servers for tests: an ``Agent`` behind ``A2AServer``, served on 127.0.0.1 ephemeral ports.

HTTP apps run under uvicorn, gRPC servers on their own event loop, each in a thread of its own: the server
never shares the client's context, so a continued trace proves the request carried it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_ag2.a2a_sdk import quiet_a2a_sdk_tracing
from tests.support.asgi_servers import free_socket, serve_app, url_of

quiet_a2a_sdk_tracing()  # as instrument() does, before anything imports a2a-sdk

from ag2.config import ModelProvider  # noqa: E402
from ag2.events import ModelMessage, ModelRequest, ModelResponse, Usage  # noqa: E402

HOST = "127.0.0.1"


class EchoConfig:
    """A model config answering ``answer to {the user's text}``, after ``delay`` seconds (tells calls apart)."""

    def __init__(self, delay: float = 0.0, model: str = "gpt-echo") -> None:
        self.delay = delay
        self.model = model
        self.provider = ModelProvider.OPENAI

    def copy(self) -> EchoConfig:
        return self

    def create(self) -> Any:
        async def call(messages: Sequence[Any], context: Any, **kwargs: Any) -> ModelResponse:
            await asyncio.sleep(self.delay)
            request = next(event for event in reversed(messages) if isinstance(event, ModelRequest))
            text = "".join(getattr(part, "content", "") for part in request.parts)
            usage = Usage(prompt_tokens=3, completion_tokens=2)
            return ModelResponse(ModelMessage(f"answer to {text}"), usage=usage, model=self.model, provider="openai")

        return call


class OpenSpans(SpanProcessor):
    """Remembers the spans started and not yet ended."""

    def __init__(self) -> None:
        self.open: dict[int, str] = {}

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.open[span.context.span_id] = span.name

    def on_end(self, span: ReadableSpan) -> None:
        self.open.pop(span.context.span_id, None)


@contextmanager
def serve_agent(agent: Any, transport: str = "jsonrpc", wrap: Callable[[Any], Any] | None = None) -> Iterator[str]:
    """Serve ``agent`` over A2A JSON-RPC or REST; yields its card URL (``http://127.0.0.1:PORT/``).

    The app is built before the block, i.e. before any ``instrument()`` in it; ``wrap`` may wrap it.
    """
    from ag2.a2a import A2AServer

    sock = free_socket()
    url = url_of(sock)
    server = A2AServer(agent)
    app = server.build_jsonrpc(url=url) if transport == "jsonrpc" else server.build_rest(url=url)
    with serve_app(wrap(app) if wrap else app, sock):
        yield url


@contextmanager
def serve_agent_grpc(agent: Any, wrap: Callable[[Any], Any] | None = None) -> Iterator[str]:
    """Serve ``agent`` over A2A gRPC, its card (naming only the gRPC interface) over HTTP; yields the card URL."""
    from ag2.a2a import A2AServer, build_card

    grpc_sock, card_sock = free_socket(), free_socket()
    grpc_target = f"{HOST}:{grpc_sock.getsockname()[1]}"
    grpc_sock.close()  # grpc binds the port itself
    card_url = url_of(card_sock)
    server = A2AServer(agent)
    card = build_card(agent, url=grpc_target, transports=("grpc",), grpc_url=grpc_target)
    card_app = server.build_jsonrpc(url=card_url, card=card)
    with (
        _running_grpc(lambda: server.build_grpc(bind=grpc_target, grpc_url=grpc_target, card=card)),
        serve_app(wrap(card_app) if wrap else card_app, card_sock),
    ):
        yield card_url


@contextmanager
def _running_grpc(build: Callable[[], Any]) -> Iterator[None]:
    """Build and run a ``grpc.aio.Server`` on an event loop of its own thread until the block ends."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop: list[asyncio.Event] = []

    async def run() -> None:
        stop.append(asyncio.Event())
        grpc_server = build()
        await grpc_server.start()
        started.set()
        await stop[0].wait()
        await grpc_server.stop(None)

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the A2A gRPC test server failed to start")
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop[0].set)
        thread.join(10)
        loop.close()


def children(parent: ReadableSpan, spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    """The direct children of ``parent``, in the order they ended."""
    return [
        s
        for s in spans
        if s.parent is not None
        and s.parent.span_id == parent.context.span_id
        and s.context.trace_id == parent.context.trace_id
    ]


def parent_of(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> ReadableSpan | None:
    """The span's parent among ``spans``."""
    if span.parent is None:
        return None
    found = [s for s in spans if s.context.span_id == span.parent.span_id]
    return found[0] if found else None


class Traced:
    """``instrument()`` plus the A2A patches on its telemetry; the spans once every started one has ended."""

    def __init__(self, instrument: Callable[[], Any], provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
        self._instrument = instrument
        self._exporter = exporter
        self._open = OpenSpans()
        provider.add_span_processor(self._open)
        self.applied: list[Any] = []

    def __call__(self) -> Any:
        from opentelemetry_instrumentation_ag2.v1 import a2a_patches

        telemetry = self._instrument()
        self.applied.extend(patch for patch in a2a_patches(telemetry) if patch.apply())
        return telemetry

    def spans(self, timeout: float = 15) -> tuple[ReadableSpan, ...]:
        """The finished spans once none is open (servers end theirs just after answering)."""
        deadline = time.monotonic() + timeout
        while self._open.open and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not self._open.open, f"spans never ended: {sorted(self._open.open.values())}"
        return self._exporter.get_finished_spans()


def a2a_instrumented(
    instrument: Callable[[], Any], tracer_provider: TracerProvider, span_exporter: InMemorySpanExporter
) -> Iterator[Traced]:
    """Fixture body of :class:`Traced`, undone at teardown: ``traced = pytest.fixture(a2a_instrumented)``."""
    traced = Traced(instrument, tracer_provider, span_exporter)
    yield traced
    for patch in reversed(traced.applied):
        patch.remove()


def only(found: Sequence[ReadableSpan]) -> ReadableSpan:
    """The one span of ``found``."""
    assert len(found) == 1, [s.name for s in found]
    return found[0]


# ag2's default card has a skill without tags; a2a-sdk warns of it on every build and fetch
logging.getLogger("a2a.utils.proto_utils").setLevel(logging.ERROR)
