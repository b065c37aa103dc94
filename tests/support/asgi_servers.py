"""Real servers for tests: an ASGI app served by uvicorn on 127.0.0.1 (ephemeral port), and a header recorder."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

HOST = "127.0.0.1"


def free_socket() -> socket.socket:
    """A TCP socket bound to an ephemeral port on 127.0.0.1 (not listening yet)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio turns Nagle off only then
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://127.0.0.1:PORT/`` of a bound socket."""
    return f"http://{HOST}:{sock.getsockname()[1]}/"


@contextmanager
def serve_app(app: Any, sock: socket.socket, lifespan: str = "off") -> Iterator[None]:
    """Serve an ASGI app on ``sock`` in a background thread until the block ends (ready when entered)."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
        if not thread.is_alive():
            raise RuntimeError("the test server failed to start")
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class RecordingApp:
    """ASGI wrapper remembering the headers of every HTTP request (lower-case names, every value)."""

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


def serve_until_stdin_closes(app: Any, path: str = "") -> None:
    """A test server process's life: serve ``app`` (with its lifespan) on a free port of 127.0.0.1, print
    ``READY <url><path>``, and stop cleanly, so its last spans are exported, once the test closes its stdin."""
    sock = free_socket()
    with serve_app(app, sock, lifespan="on"):
        print("READY", f"{url_of(sock)}{path}", flush=True)
        sys.stdin.read()
