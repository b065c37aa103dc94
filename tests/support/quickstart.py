"""The README's path to a user's own app: the quick-start apps, the in-code snippet and the local back end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from tests.support.otlp_receiver import ReceivedSpan, TraceReceiver
from tests.support.processes import ROOT, instrumented_example
from tests.support.scripted_model import ScriptedLLM
from tests.support.tool_calling_model import tool_then_answer

SERVICE = "weather-app"
"""The service the quick start names in ``OTEL_SERVICE_NAME``."""
ANSWER = "The tool answered: Sunny, 21 °C in Paris."


def readme_snippet() -> str:
    """The README's in-code set-up, as written there."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL)
    found = [block for block in blocks if "AG2Instrumentor().instrument(" in block]
    assert len(found) == 1, "the README has one in-code set-up snippet"
    return found[0]


def app_env(model_url: str, otlp_endpoint: str) -> dict[str, str]:
    """A user's shell: the app pointed at the local model, OTLP at the receiver, no other ``OTEL_*``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "OPENAI_"))}
    return environment | {
        "OPENAI_BASE_URL": model_url,
        "OPENAI_API_KEY": "unused",
        "OTEL_SERVICE_NAME": SERVICE,
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_METRIC_EXPORT_INTERVAL": "100",
    }


class Launch(NamedTuple):
    """How an app is started, and the service its spans then name."""

    command: list[str]
    service: str


def zero_code(app: str) -> Launch:
    """``opentelemetry-instrument python examples/APP``, as the quick start runs it."""
    return Launch(instrumented_example(app), SERVICE)


def in_code(app: str) -> Launch:
    """``python`` running the README's snippet, then the app: tracing set up in code, no launcher."""
    snippet = readme_snippet()
    service = re.search(r'"service\.name": "([^"]+)"', snippet)
    assert service, "the snippet names its service"
    run_app = f"\nimport runpy\nrunpy.run_path({str(ROOT / 'examples' / app)!r}, run_name='__main__')\n"
    return Launch([sys.executable, "-c", snippet + run_app], service.group(1))


def run_app(command: list[str], env: dict[str, str]) -> str:
    """Run an app to its end; its output."""
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@contextmanager
def local_model_and_receiver() -> Iterator[tuple[ScriptedLLM, TraceReceiver]]:
    """The scripted model with the local back end's policy, and an OTLP receiver, both on 127.0.0.1."""
    with ScriptedLLM(default=tool_then_answer) as model, TraceReceiver() as receiver:
        yield model, receiver


class QuickstartTrace(NamedTuple):
    """A quick-start app's one trace, checked whole: its root, ``chat`` spans and tool span by id."""

    root: ReceivedSpan
    chats: list[ReceivedSpan]
    tool: ReceivedSpan
    by_id: dict[str, ReceivedSpan]


def traced_run(launch: Launch, root_name: str) -> QuickstartTrace:
    """Run a quick-start app against the local model and check what every line's trace shows: the app's
    answer, one trace of its service, one ``chat`` per request the model saw (openai-v2's where util-genai
    < 1.3 has it), the tool run once, the root's token total the calls' sum."""
    with local_model_and_receiver() as (model, receiver):
        output = run_app(launch.command, app_env(model.base_url, receiver.grpc_endpoint))
        spans = receiver.wait_for(lambda spans: any(s.name == root_name for s in spans), timeout=30)
    assert ANSWER in output
    assert len({s.trace_id for s in spans}) == 1
    assert {s.service_name for s in spans} == {launch.service}
    chats = [s for s in spans if s.name == "chat gpt-4o-mini"]
    assert len(chats) == len(model.requests) == 2
    (tool,) = [s for s in spans if s.name == "execute_tool get_weather"]
    (root,) = [s for s in spans if s.parent_span_id is None]
    assert root.name == root_name
    assert root.attributes["gen_ai.usage.output_tokens"] == sum(
        c.attributes["gen_ai.usage.output_tokens"] for c in chats
    )
    return QuickstartTrace(root, chats, tool, {s.span_id: s for s in spans})


@contextmanager
def local_backend() -> Iterator[tuple[str, str, subprocess.Popen]]:
    """``examples/local_backend.py`` on free ports, printing traces as JSON lines: its model URL and OTLP endpoint."""
    command = [sys.executable, str(ROOT / "examples" / "local_backend.py"), "--json"]
    command += ["--model-port", "0", "--grpc-port", "0", "--http-port", "0"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        model_url = otlp_endpoint = ""
        for line in process.stderr:  # readiness: the two lines it prints once both servers listen
            if match := re.search(r"OPENAI_BASE_URL=(\S+)", line):
                model_url = match.group(1)
            if match := re.search(r"OTEL_EXPORTER_OTLP_ENDPOINT=(\S+)", line):
                otlp_endpoint = match.group(1)
                break
        assert model_url and otlp_endpoint, "local_backend.py said where it listens"
        yield model_url, otlp_endpoint, process
    finally:
        process.terminate()
        process.wait(15)
