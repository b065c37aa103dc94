"""An AG2 1.x agent served over A2A (JSON-RPC), with no tracing code: run it under ``opentelemetry-instrument``.

    OTEL_SERVICE_NAME=tech-agent-service opentelemetry-instrument python examples/v1_agent_server.py --port 18123

The 1.x twin of ``server.py`` (run it in an environment with ``ag2>=1``). Prints ``READY <card url>`` once it
accepts connections. ``--port 0`` picks a free port.
"""

from __future__ import annotations

import argparse
import socket

import uvicorn
from ag2 import Agent
from ag2.a2a import A2AServer
from v1_model import model_config

SCRIPTED_REPLIES = {
    "tech_agent": "Reproduce it and read the evidence: a backtrace for a crash (`gdb --args python app.py`, then"
    " `run` and `bt`), the request logs and error rates for failing calls.",
    "research_agent": "Intermittent failures usually point at exhausted resources; check pool sizes.",
}
PROMPTS = {
    "tech_agent": "You solve technical problems. Provide clear, actionable solutions.",
    "research_agent": "You research questions and summarise what is known.",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=18123)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--name", default="tech_agent", choices=sorted(PROMPTS))
    options = parser.parse_args()

    config, scripted = model_config(default=SCRIPTED_REPLIES[options.name])
    agent = Agent(options.name, PROMPTS[options.name], config=config)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((options.host, options.port))
    except OSError as error:
        raise SystemExit(f"cannot listen on {options.host}:{options.port}: {error.strerror}") from None
    sock.listen(128)
    url = f"http://{options.host}:{sock.getsockname()[1]}/"

    app = A2AServer(agent).build_jsonrpc(url=url)
    print(f"READY {url}", flush=True)
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    finally:
        if scripted is not None:
            scripted.stop()


if __name__ == "__main__":
    main()
