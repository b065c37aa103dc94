"""One AG2 1.x (``import ag2``) benchmark worker, started by ``interleaved.py`` for its ``V1-*`` workloads.

    python benchmarks/v1_workloads.py '{"task": "chat", "workload": "W1", "config": "ours", ...}' OUT.json

The counterpart of ``workloads.py`` for AG2 1.x, run under an interpreter that has ``ag2>=1`` (the classic
line's ``autogen`` cannot be installed beside it). It speaks the same pace protocol (``ready``, then one
batch per ``go``, ``done`` after each, the result as JSON on ``stop``), uses the same timing code and the same
configurations (``configs.py``). A turn is one ``Agent.ask`` (each a new conversation, so that no history
grows), whose one LLM call is:

* ``W1``: answered at once by AG2's own scripted model, ``ag2.testing.TestConfig`` (no network).
* ``W2``: AG2's real OpenAI client (``OpenAIConfig``, ``max_retries=0``) talking to the classic W2's scripted
  model (``workloads.scripted_model``) on 127.0.0.1 in its own process, over one HTTP client shared by every
  turn, as a long-running application keeps one (without it AG2 builds a new client for every turn).
* ``W3``: a remote agent, ``Agent(config=A2AConfig(card_url=...))``, asking an agent served by
  ``A2AServer(agent).build_jsonrpc(...)`` and uvicorn on 127.0.0.1 in another process (this script's
  ``server`` task, under the same configuration), which answers through the scripted model as in W2.
* ``W4``: the same served agent behind ``AGUIStream(agent).build_asgi()`` instead (AG-UI); a turn is one HTTP
  POST of a ``RunAgentInput`` (a new thread each time) whose server-sent events are read to their end, by
  plain httpx (one ``AsyncClient`` for every turn) in this process.

Configuration ``ag2``: AG2's own ``ag2.middleware.TelemetryMiddleware`` on every agent (``middleware=[...]``),
given the benchmark's provider, the agent's name, and the provider and model where the agent has them; the
other configurations are set up by ``configs.Telemetry`` (``ours``: ``AG2Instrumentor().instrument()``).
Neither ``configs.py`` nor ``workloads.py`` imports ``autogen`` at module level, so both serve here.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import socket
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from configs import Telemetry
from workloads import (
    FIRST_MESSAGE,
    MODEL_REPLY,
    Started,
    background,
    peak_rss_kb,
    scripted_model,
    timed_chats,
)

if TYPE_CHECKING:
    import httpx

HERE = Path(__file__).resolve().parent
MODEL = "gpt-4o-mini"
PROVIDER = "openai"
RUN_FINISHED_EVENT = 'data: {"type":"RUN_FINISHED"'
"""How AG-UI's encoder starts the server-sent event that ends a run."""


def own_tracing(telemetry: Telemetry, name: str, model: bool = True) -> list[Any]:
    """The ``middleware=`` of an agent: AG2's own ``TelemetryMiddleware`` under ``ag2``, nothing otherwise.

    ``model``: the agent calls a model (named for AG2's spans as ours finds it in the config); a remote A2A
    agent does not.
    """
    if telemetry.config != "ag2":
        return []
    from ag2.middleware import TelemetryMiddleware

    named = {"provider_name": PROVIDER, "model_name": MODEL} if model else {}
    return [TelemetryMiddleware(tracer_provider=telemetry.provider, agent_name=name, **named)]


def scripted_config() -> Any:
    """W1's model: ``ag2.testing.TestConfig`` answering every turn's one call at once."""
    from ag2.config import ModelProvider
    from ag2.testing import TestConfig

    return TestConfig(MODEL_REPLY, provider=ModelProvider.OPENAI, model=MODEL)


def openai_config(base_url: str, http_client: Any) -> Any:
    """AG2's real OpenAI client pointed at the scripted model."""
    from ag2.config import OpenAIConfig

    return OpenAIConfig(model=MODEL, api_key="test", base_url=base_url, max_retries=0, http_client=http_client)


def shared_http_client() -> Any:
    """One HTTP client for every turn (the OpenAI SDK's own default kind)."""
    from openai import DefaultAsyncHttpxClient

    return DefaultAsyncHttpxClient()


def run_turns(
    spec: dict[str, Any],
    telemetry: Telemetry,
    turn: Callable[[], Awaitable[object]],
    servers: list[int],
    close: Callable[[], Awaitable[object]] | None = None,
) -> dict[str, Any]:
    """``warmup`` chats, then the timed ones: a chat is ``rounds`` awaited ``turn()``; ``close()`` at the end."""
    loop = asyncio.new_event_loop()  # one event loop for every chat (a shared HTTP client is bound to it)

    async def chat() -> int:
        for _ in range(spec["rounds"]):
            await turn()
        return spec["rounds"]

    try:
        return timed_chats(spec, telemetry, lambda: loop.run_until_complete(chat()), servers)
    finally:
        if close is not None:
            loop.run_until_complete(close())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def run_asks(spec: dict[str, Any], telemetry: Telemetry, agent: Any, servers: list[int]) -> dict[str, Any]:
    """Timed chats of ``rounds`` asks of ``agent``, one turn each."""
    return run_turns(spec, telemetry, lambda: agent.ask(FIRST_MESSAGE), servers)


def run_local(spec: dict[str, Any], telemetry: Telemetry) -> dict[str, Any]:
    """W1: an agent whose every turn's LLM call is answered at once by ``TestConfig``."""
    from ag2 import Agent

    name = "assistant"
    agent = Agent(name, "Answer briefly.", config=scripted_config(), middleware=own_tracing(telemetry, name))
    return run_asks(spec, telemetry, agent, []) | {"spans": telemetry.spans()}


def run_model(spec: dict[str, Any], telemetry: Telemetry, model: Started) -> dict[str, Any]:
    """W2: an agent answering through AG2's OpenAI client and the scripted model."""
    from ag2 import Agent

    name = "assistant"
    client = shared_http_client()
    config = openai_config(model.url, client)
    agent = Agent(name, "Answer briefly.", config=config, middleware=own_tracing(telemetry, name))
    return run_asks(spec, telemetry, agent, [model.pid]) | {"spans": telemetry.spans()}


def with_server(
    spec: dict[str, Any],
    telemetry: Telemetry,
    model: Started,
    protocol: str,
    client: Callable[[Started], dict[str, Any]],
) -> dict[str, Any]:
    """``client(server)``'s timed chats against the agent served over ``protocol`` in another process (the ``server``
    task, under the same configuration), with this process's spans and the server's spans and peak RSS."""
    with tempfile.TemporaryDirectory() as scratch:
        server_out = Path(scratch) / "server.json"
        server_spec = {"task": "server", "protocol": protocol, "config": spec["config"], "model_url": model.url}
        command = [sys.executable, str(Path(__file__).resolve()), json.dumps(server_spec), str(server_out)]
        with background(command, f"the {protocol} server") as server:
            result = client(server)
        served = json.loads(server_out.read_text()) if server_out.exists() else {}
    result["spans"] = telemetry.spans()
    result["server_spans"] = served.get("spans", 0)
    result["server_peak_rss_kb"] = served.get("peak_rss_kb")
    return result


def run_a2a(spec: dict[str, Any], telemetry: Telemetry, model: Started) -> dict[str, Any]:
    """W3: a remote agent (``A2AConfig``) asking an agent served in another process; a turn is one remote turn."""
    from ag2 import Agent
    from ag2.a2a import A2AConfig

    def ask_remote(server: Started) -> dict[str, Any]:
        name = "remote_agent"
        agent = Agent(name, config=A2AConfig(card_url=server.url), middleware=own_tracing(telemetry, name, model=False))
        return run_asks(spec, telemetry, agent, [model.pid, server.pid])

    return with_server(spec, telemetry, model, "a2a", ask_remote)


def run_input(text: str) -> dict[str, Any]:
    """An AG-UI ``RunAgentInput``: one user message, on a new thread (so that no history grows) and a new run."""
    thread, run = uuid.uuid4().hex, uuid.uuid4().hex
    return {
        "threadId": thread,
        "runId": run,
        "state": {},
        "messages": [{"id": f"m-{run}", "role": "user", "content": text}],
        "tools": [],
        "context": [],
        "forwardedProps": {},
    }


async def post_run(client: httpx.AsyncClient, url: str) -> None:
    """One AG-UI turn: POST a run, read its server-sent events to the end; an error unless the last is RUN_FINISHED."""
    response = await client.post(url, json=run_input(FIRST_MESSAGE), headers={"accept": "text/event-stream"})
    response.raise_for_status()
    last = response.text.rstrip().rpartition("\n")[2]
    if not last.startswith(RUN_FINISHED_EVENT):
        raise RuntimeError(f"the AG-UI run did not finish: {last[:200]!r}")


def run_ag_ui(spec: dict[str, Any], telemetry: Telemetry, model: Started) -> dict[str, Any]:
    """W4: plain httpx posting AG-UI runs to an agent served in another process; a turn is one run."""
    import httpx

    def post_runs(server: Started) -> dict[str, Any]:
        client = httpx.AsyncClient(timeout=60)
        turn = functools.partial(post_run, client, server.url)
        return run_turns(spec, telemetry, turn, [model.pid, server.pid], close=client.aclose)

    return with_server(spec, telemetry, model, "ag-ui", post_runs)


def a2a_app(agent: Any, url: str) -> Any:
    """W3's app: the agent behind AG2's A2A JSON-RPC server."""
    from ag2.a2a import A2AServer

    return A2AServer(agent).build_jsonrpc(url=url)


def ag_ui_app(agent: Any, url: str) -> Any:
    """W4's app: the agent's AG-UI endpoint (POST runs it), served as it is."""
    from ag2.ag_ui import AGUIStream

    return AGUIStream(agent).build_asgi()


SERVED_APPS: dict[str, Callable[[Any, str], Any]] = {"a2a": a2a_app, "ag-ui": ag_ui_app}
SERVER_SPANS = {"a2a": "a2a-execution", "ag-ui": "ag-ui-execution"}
"""The name of ours' span of a served request, by protocol (for ``minimal``'s bare one)."""
"""How the ``server`` task builds its ASGI app around the agent, by protocol: ``app(agent, url)``."""


def listening_socket() -> tuple[socket.socket, str]:
    """A socket listening on an ephemeral port of 127.0.0.1, and its URL, for uvicorn to serve on.

    Made as ``uvicorn.run(app, host=..., port=...)`` makes its own: with ``IPPROTO_TCP``, which asyncio needs to see
    on the accepted connections to switch Nagle's algorithm off for them. With protocol 0 a response's later writes
    wait for the client's delayed ACK on a kept-alive connection: tens of ms a served turn, hiding what is measured.
    Listening before ``READY``: a client connecting at once is queued, not refused.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}/"


def task_server(spec: dict[str, Any]) -> dict[str, Any]:
    """W3's and W4's server: prints ``READY <url>`` once listening; on SIGTERM, its spans and peak RSS."""
    telemetry = Telemetry(spec["config"])  # before the app is built
    import uvicorn
    from ag2 import Agent

    sock, url = listening_socket()
    name = "checklist_agent"
    config = openai_config(spec["model_url"], shared_http_client())
    agent = Agent(name, "You answer checklist questions.", config=config, middleware=own_tracing(telemetry, name))
    app = telemetry.served_app(SERVED_APPS[spec["protocol"]](agent, url), SERVER_SPANS[spec["protocol"]])
    # uvicorn re-raises the SIGTERM it caught once it has shut down: a handler of ours makes that a no-op
    signal.signal(signal.SIGTERM, lambda *_: None)
    print(f"READY {url}", file=sys.__stdout__, flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")).run(sockets=[sock])
    result = {"spans": telemetry.spans(), "peak_rss_kb": peak_rss_kb()}
    telemetry.shutdown()
    return result


def task_chat(spec: dict[str, Any]) -> dict[str, Any]:
    """Time one workload under one configuration."""
    telemetry = Telemetry(spec["config"])
    if spec["workload"] == "W1":
        result = run_local(spec, telemetry)
    else:
        with scripted_model() as model:
            result = WITH_MODEL[spec["workload"]](spec, telemetry, model)
    result["spans_per_turn"] = result["spans"] / result["turns"]
    if "server_spans" in result:
        result["spans_per_turn"] += result["server_spans"] / result["all_turns"]
    result["dropped"] = telemetry.dropped()
    result["peak_rss_kb"] = peak_rss_kb()
    telemetry.shutdown()
    return result


WITH_MODEL: dict[str, Callable[[dict[str, Any], Telemetry, Started], dict[str, Any]]] = {
    "W2": run_model,
    "W3": run_a2a,
    "W4": run_ag_ui,
}
"""The workloads that talk to the scripted model, by name."""
TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {"chat": task_chat, "server": task_server}


def main() -> None:
    spec = json.loads(sys.argv[1])
    out = Path(sys.argv[2])
    if spec.get("cpu") is not None:  # the servers this process starts inherit it
        os.sched_setaffinity(0, {spec["cpu"]})
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the result goes to ``out``
    result = TASKS[spec["task"]](spec)
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
