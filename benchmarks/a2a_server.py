"""W3's server: an AG2 agent behind ``A2aAgentServer``, served by uvicorn on 127.0.0.1, under a configuration.

    python benchmarks/a2a_server.py --config ours --model-url http://127.0.0.1:PORT/v1 --out server.json

The served agent answers through the scripted model. Prints ``READY <url>`` once listening; on SIGTERM it
stops, flushes, and writes the spans it exported and its peak RSS to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
from pathlib import Path

from configs import Telemetry
from workloads import llm_config, peak_rss_kb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--model-url", required=True)
    parser.add_argument("--out", required=True)
    options = parser.parse_args()

    telemetry = Telemetry(options.config)  # before the server is built: ours patches ``build()``
    import uvicorn
    from autogen import ConversableAgent
    from autogen.a2a import A2aAgentServer

    agent = ConversableAgent(
        "remote_agent",
        system_message="You answer checklist questions.",
        llm_config=llm_config(options.model_url),
        human_input_mode="NEVER",
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio turns Nagle off only then
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    server = A2aAgentServer(agent, url=url)
    telemetry.instrument_server(server)
    app = server.build()

    # uvicorn re-raises the SIGTERM it caught once it has shut down: a handler of ours makes that a no-op
    signal.signal(signal.SIGTERM, lambda *_: None)
    print(f"READY {url}", flush=True)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nobody reads the pipe any more
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")).run(sockets=[sock])
    spans = telemetry.spans()
    Path(options.out).write_text(json.dumps({"spans": spans, "peak_rss_kb": peak_rss_kb()}))
    telemetry.shutdown()


if __name__ == "__main__":
    main()
