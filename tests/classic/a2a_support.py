"""Real A2A servers for tests: an AG2 agent behind ``A2aAgentServer``, served by uvicorn on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from tests.support.asgi_servers import free_socket, serve_app

HOST = "127.0.0.1"


@contextmanager
def serve_agent(
    agent: Any, *, streaming: bool = True, wrap: Any = None, middleware: Sequence[type] = ()
) -> Iterator[str]:
    """Serve ``agent`` over A2A; yields the agent URL (``http://127.0.0.1:PORT/``), which is also its card URL.

    ``wrap`` may wrap the built app (e.g. to record requests) outside everything else; ``middleware`` is the
    user's own, added with ``A2aAgentServer.add_middleware``.
    """
    from autogen.a2a import A2aAgentServer, CardSettings

    sock = free_socket()
    url = f"http://{HOST}:{sock.getsockname()[1]}/"
    card = CardSettings(capabilities={"streaming": streaming})
    server = A2aAgentServer(agent, url=url, agent_card=card)
    for cls in middleware:
        server.add_middleware(cls)
    app = server.build()
    with serve_app(wrap(app) if wrap else app, sock):
        yield url
