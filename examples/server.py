"""The seed's tech_agent A2A server, with no tracing code: run it under ``opentelemetry-instrument``.

    OTEL_SERVICE_NAME=tech-agent-service opentelemetry-instrument python examples/server.py --port 18123

Prints ``READY <agent url>`` once it accepts connections. ``--port 0`` picks a free port. ``--protocol-version 1.0``
makes its card offer A2A 1.0, which AG2 1.x clients require (they refuse the default, 0.3.0).
"""

from __future__ import annotations

from autogen import ConversableAgent
from autogen.a2a import A2aAgentServer, CardSettings
from model import model_config
from remote_agents import SCRIPTED_ANSWERS, SYSTEM_MESSAGES, listen, server_arguments


def main() -> None:
    parser = server_arguments(__doc__)
    parser.add_argument("--protocol-version", help="the A2A protocol version its card offers (default: AG2's)")
    options = parser.parse_args()
    listener = listen(options.host, options.port)

    with model_config([SCRIPTED_ANSWERS[options.name], "TERMINATE"]) as llm_config:
        agent = ConversableAgent(
            name=options.name,
            system_message=SYSTEM_MESSAGES[options.name],
            llm_config=llm_config,
            human_input_mode="NEVER",
        )
        card = CardSettings(protocol_version=options.protocol_version) if options.protocol_version else None
        app = A2aAgentServer(agent, url=listener.url, agent_card=card).build()
        listener.serve(app)


if __name__ == "__main__":
    main()
