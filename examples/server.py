"""The seed's tech_agent A2A server, with no tracing code: run it under ``opentelemetry-instrument``.

    OTEL_SERVICE_NAME=tech-agent-service opentelemetry-instrument python examples/server.py --port 18123

Prints ``READY <agent url>`` once it accepts connections. ``--port 0`` picks a free port. ``--protocol-version 1.0``
makes its card offer A2A 1.0, which AG2 1.x clients require (they refuse the default, 0.3.0).
"""

from __future__ import annotations

import argparse
import socket

import uvicorn
from autogen import ConversableAgent
from autogen.a2a import A2aAgentServer, CardSettings
from model import model_config

SCRIPTED_REPLIES = {
    "tech_agent": [
        "Reproduce it and read the evidence: a backtrace for a crash (`gdb --args python app.py`, then `run`"
        " and `bt`), the request logs and error rates for failing calls.",
        "TERMINATE",
    ],
    "research_agent": ["Intermittent failures usually point at exhausted resources; check pool sizes.", "TERMINATE"],
}
SYSTEM_MESSAGES = {
    "tech_agent": "You solve technical problems. Provide clear, actionable solutions.",
    "research_agent": "You research questions and summarise what is known.",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=18123)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--name", default="tech_agent", choices=sorted(SYSTEM_MESSAGES))
    parser.add_argument("--protocol-version", help="the A2A protocol version its card offers (default: AG2's)")
    options = parser.parse_args()

    llm_config, scripted = model_config(SCRIPTED_REPLIES[options.name])
    agent = ConversableAgent(
        name=options.name,
        system_message=SYSTEM_MESSAGES[options.name],
        llm_config=llm_config,
        human_input_mode="NEVER",
    )

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((options.host, options.port))
    except OSError as error:
        raise SystemExit(f"cannot listen on {options.host}:{options.port}: {error.strerror}") from None
    sock.listen(128)
    url = f"http://{options.host}:{sock.getsockname()[1]}/"

    card = CardSettings(protocol_version=options.protocol_version) if options.protocol_version else None
    app = A2aAgentServer(agent, url=url, agent_card=card).build()
    print(f"READY {url}", flush=True)
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    finally:
        if scripted is not None:
            scripted.stop()


if __name__ == "__main__":
    main()
