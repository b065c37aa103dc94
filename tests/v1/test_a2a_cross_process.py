"""Zero code, two processes: an A2A server and its client, each under ``opentelemetry-instrument``, one trace.

Both export real OTLP/gRPC to an in-test receiver; the only tracing setup is the environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.otlp_receiver import ReceivedSpan, TraceReceiver, children

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]


def instrumented(*args: str) -> list[str]:
    launcher = shutil.which("opentelemetry-instrument", path=os.path.dirname(sys.executable))
    assert launcher, "opentelemetry-instrument is installed with the test extra"
    return [launcher, sys.executable, "-m", "tests.v1.a2a_app", *args]


def instrumented_env(service: str, endpoint: str) -> dict[str, str]:
    """This environment less its ``OTEL_*``, plus a service name and OTLP/gRPC traces to ``endpoint``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    return environment | {
        "OTEL_SERVICE_NAME": service,
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "httpx",  # its spans would sit between ours and add nothing here
        "PYTHONUNBUFFERED": "1",
    }


@contextmanager
def server_process(env: dict[str, str], transport: str) -> Iterator[str]:
    """The A2A server process, once it printed ``READY <url>``; yields the URL, stops the process at the end."""
    process = subprocess.Popen(
        instrumented("serve", transport), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.startswith("READY "):
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        url = next((line.split()[1] for line in output if line.startswith("READY ")), None) if ready.wait(60) else None
        assert url, "".join(output)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        reader.join(5)


def only(found: list[ReceivedSpan]) -> ReceivedSpan:
    assert len(found) == 1, [s.name for s in found]
    return found[0]


def complete(spans: list[ReceivedSpan]) -> bool:
    names = [s.name for s in spans]
    return "invoke_agent triage" in names and names.count("a2a-execution") >= 4 and names.count("chat gpt-test") >= 4


SENT_MESSAGE = {
    "jsonrpc": ("rpc.method", "SendStreamingMessage"),
    "rest": ("http.request.method", "POST"),
    "grpc": ("rpc.method", "lf.a2a.v1.A2AService/SendStreamingMessage"),
}
"""What each transport's request span says of the message it carries."""


@pytest.mark.parametrize("transport", ["jsonrpc", "rest", "grpc"])
def test_a_remote_agent_across_two_processes_is_one_trace(transport: str) -> None:
    with TraceReceiver(host="127.0.0.1", grpc_port=0, http_port=0) as receiver:
        endpoint = receiver.grpc_endpoint
        with server_process(instrumented_env("tech-agent-service", endpoint), transport) as url:
            done = subprocess.run(
                instrumented("ask", url),
                cwd=ROOT,
                env=instrumented_env("client-service", endpoint),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            assert "REPLY: Done." in done.stdout
            spans = receiver.wait_for(complete, timeout=60)

    assert len({s.trace_id for s in spans}) == 1, "one trace across both services"
    assert {s.name for s in spans} == {
        "invoke_agent triage",
        "chat gpt-test",
        "execute_tool ask_tech_agent",
        "invoke_agent tech_agent",
        "a2a-execution",
    }, "ours only: no a2a-sdk spans"
    root = only([s for s in spans if s.parent_span_id is None])
    assert (root.name, root.service_name) == ("invoke_agent triage", "client-service")
    tool_span = only([s for s in children(root, spans) if s.name == "execute_tool ask_tech_agent"])
    calls = children(tool_span, spans)
    assert [(s.name, s.kind, s.service_name) for s in calls] == [
        ("invoke_agent tech_agent", "CLIENT", "client-service")
    ] * 2
    for call in calls:
        assert call.attributes["gen_ai.agent.remote"] is True
        assert call.attributes["server.address"] == url
        assert call.attributes["server.port"] == int(url.rstrip("/").rsplit(":", 1)[1])
        executions = children(call, spans)
        assert [(s.name, s.kind, s.service_name) for s in executions] == [
            ("a2a-execution", "SERVER", "tech-agent-service")
        ] * 2
        card, message = executions
        assert card.attributes["http.route"] == "/.well-known/agent-card.json"
        key, value = SENT_MESSAGE[transport]
        assert message.attributes[key] == value
        assert message.attributes["a2a.task.id"] == call.attributes["a2a.task.id"]
        assert message.attributes["a2a.context.id"] == call.attributes["a2a.context.id"]
        served = only(children(message, spans))
        assert (served.name, served.kind, served.service_name) == (
            "invoke_agent tech_agent",
            "INTERNAL",
            "tech-agent-service",
        )
        assert [(s.name, s.kind) for s in children(served, spans)] == [("chat gpt-test", "CLIENT")]
    assert calls[0].attributes["a2a.context.id"] == calls[1].attributes["a2a.context.id"]  # the follow-up
