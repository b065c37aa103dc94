"""Real AG2 1.x A2A servers for tests: an ``Agent`` behind ``A2AServer``, served on 127.0.0.1 ephemeral ports.

HTTP apps run under uvicorn, gRPC servers on their own event loop, each in a thread of its own: the server
never shares the client's context, so a continued trace proves the request carried it. Or ``tests.v1.a2a_app``'s
server and client, each in a process of its own under ``opentelemetry-instrument``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from opentelemetry_instrumentation_ag2.remote.a2a_sdk import quiet_a2a_sdk_tracing
from tests.support.asgi_servers import free_socket, serve_app, url_of
from tests.support.otlp_receiver import ReceivedSpan, TraceReceiver
from tests.support.processes import Exchange, instrumented_module, server_and_client

quiet_a2a_sdk_tracing()  # as instrument() does, before anything imports a2a-sdk

from ag2.config import ModelProvider  # noqa: E402
from ag2.events import ModelMessage, ModelRequest, ModelResponse, Usage  # noqa: E402

HOST = "127.0.0.1"
A2A_APP = "tests.v1.a2a_app"


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


def ask_across_processes(transport: str, complete: Callable[[list[ReceivedSpan]], bool]) -> Exchange:
    """``tests.v1.a2a_app``'s server over ``transport`` and its client asking it, both under
    ``opentelemetry-instrument``, exporting to an in-test receiver; the spans once ``complete``."""
    with TraceReceiver(host="127.0.0.1", grpc_port=0, http_port=0) as receiver:
        server = instrumented_module(A2A_APP, "serve", transport)
        return server_and_client(receiver, server, lambda url: instrumented_module(A2A_APP, "ask", url), complete)


def only(found: Sequence[ReadableSpan]) -> ReadableSpan:
    """The one span of ``found``."""
    assert len(found) == 1, [s.name for s in found]
    return found[0]


# ag2's default card has a skill without tags; a2a-sdk warns of it on every build and fetch
logging.getLogger("a2a.utils.proto_utils").setLevel(logging.ERROR)
