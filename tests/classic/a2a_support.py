"""Real A2A servers for tests: an AG2 agent behind ``A2aAgentServer``, served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

HOST = "127.0.0.1"


def free_socket() -> socket.socket:
    """A listening-ready TCP socket bound to an ephemeral port on 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    return sock


@contextmanager
def serve_app(app: Any, sock: socket.socket) -> Iterator[None]:
    """Serve an ASGI app on ``sock`` in a background thread until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
        if not thread.is_alive():
            raise RuntimeError("the A2A test server failed to start")
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def serve_agent(agent: Any, *, streaming: bool = True, wrap: Any = None) -> Iterator[str]:
    """Serve ``agent`` over A2A; yields the agent URL (``http://127.0.0.1:PORT/``), which is also its card URL.

    ``wrap`` may wrap the built app (e.g. to record requests) outside everything else.
    """
    from autogen.a2a import A2aAgentServer, CardSettings

    sock = free_socket()
    url = f"http://{HOST}:{sock.getsockname()[1]}/"
    card = CardSettings(capabilities={"streaming": streaming})
    app = A2aAgentServer(agent, url=url, agent_card=card).build()
    with serve_app(wrap(app) if wrap else app, sock):
        yield url


class RecordingApp:
    """ASGI wrapper remembering the headers of every HTTP request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.headers: list[dict[str, list[str]]] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers: dict[str, list[str]] = {}
            for name, value in scope["headers"]:
                headers.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
            self.headers.append(headers | {":path": [scope["path"]], ":method": [scope["method"]]})
        await self.app(scope, receive, send)
