"""An AG2 1.x agent served over A2A (JSON-RPC), with no tracing code: run it under ``opentelemetry-instrument``.

    OTEL_SERVICE_NAME=tech-agent-service opentelemetry-instrument python examples/v1_agent_server.py --port 18123

The 1.x twin of ``server.py`` (run it in an environment with ``ag2>=1``). Prints ``READY <card url>`` once it
accepts connections. ``--port 0`` picks a free port.
"""

from __future__ import annotations

from ag2 import Agent
from ag2.a2a import A2AServer
from remote_agents import SCRIPTED_ANSWERS, SYSTEM_MESSAGES, listen, server_arguments
from v1_model import model_config


def main() -> None:
    options = server_arguments(__doc__).parse_args()
    listener = listen(options.host, options.port)

    with model_config(default=SCRIPTED_ANSWERS[options.name]) as config:
        agent = Agent(options.name, SYSTEM_MESSAGES[options.name], config=config)
        app = A2AServer(agent).build_jsonrpc(url=listener.url)
        listener.serve(app)


if __name__ == "__main__":
    main()
