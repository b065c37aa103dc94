"""The seed's two remote A2A agents (tech_agent, research_agent), as both AG2 lines' examples serve and call them.

The servers (``server.py`` and its 1.x twin ``v1_agent_server.py``) take from here the agents they can serve, their
command line, and serving an app on a port: ``listen`` takes the port first, so that the agent's card can carry the
URL it is reached at, then ``Listener.serve`` prints ``READY <url>`` and serves until interrupted. The orchestrators
(``group_chat_with_remote.py``, ``v1_orchestrator.py``) take their command line: the agents' URLs. Nothing here
knows AG2 or tracing.
"""

from __future__ import annotations

import argparse
import socket
from dataclasses import dataclass
from typing import Any

import uvicorn

SYSTEM_MESSAGES = {
    "tech_agent": "You solve technical problems. Provide clear, actionable solutions.",
    "research_agent": "You research questions and summarise what is known.",
}
SCRIPTED_ANSWERS = {  # what the scripted stand-in for the model answers for each agent (no OPENAI_API_KEY)
    "tech_agent": "Reproduce it and read the evidence: a backtrace for a crash (`gdb --args python app.py`, then"
    " `run` and `bt`), the request logs and error rates for failing calls.",
    "research_agent": "Intermittent failures usually point at exhausted resources; check pool sizes.",
}


def server_arguments(description: str | None) -> argparse.ArgumentParser:
    """The servers' command line: ``--port`` (0 picks a free one), ``--host`` and the agent's ``--name``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=18123)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--name", default="tech_agent", choices=sorted(SYSTEM_MESSAGES))
    return parser


def orchestrator_arguments(description: str | None) -> argparse.ArgumentParser:
    """The orchestrators' command line: the URLs of the tech and research agent servers."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--tech", default="http://127.0.0.1:18123/")
    parser.add_argument("--research", default="http://127.0.0.1:18124/")
    return parser


@dataclass(frozen=True)
class Listener:
    """A socket listening on a port, and the URL it is reached at."""

    sock: socket.socket
    url: str

    def serve(self, app: Any) -> None:
        """Print ``READY <url>``, then serve the ASGI ``app`` on the socket until interrupted."""
        print(f"READY {self.url}", flush=True)
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[self.sock])


def listen(host: str, port: int) -> Listener:
    """Listen on ``host:port``; ``SystemExit`` saying why if that port cannot be had."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio turns Nagle off only then
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        raise SystemExit(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(128)
    return Listener(sock, f"http://{host}:{sock.getsockname()[1]}/")
