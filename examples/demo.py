"""The main job in one command: the seed's multi-agent system as separate processes, and its one trace as a tree.

    python examples/demo.py                    # group chat: orchestrator + tech_agent and research_agent servers
    python examples/demo.py --example client   # the seed's two processes: client.py -> server.py (tech_agent)
    python examples/demo.py --example v1 --v1-venv PATH      # the same system on AG2 1.x
    python examples/demo.py --example mixed --v1-venv PATH   # a 1.x orchestrator, a classic and a 1.x agent

The classic processes run with this Python; the AG2 1.x ones (``v1``, ``mixed``) with the Python of the
virtualenv given by ``--v1-venv`` (or ``$DEMO_VENV_V1``), as the two lines cannot share one environment.

Starts an OTLP receiver in this process, then each A2A agent server and the orchestrator as separate processes
under ``opentelemetry-instrument`` (each with its own ``OTEL_SERVICE_NAME``), waits until the trace is complete
and prints it. With ``OTEL_EXPORTER_OTLP_ENDPOINT`` (and ``OTEL_EXPORTER_OTLP_PROTOCOL``) set, everything is
also forwarded there, so the same trace can be opened in Jaeger, Tempo, Phoenix...
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console
from rich.markup import escape

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.support

from tests.support.instrumented_env import instrumented_env
from tests.support.otlp_receiver import (
    Forwarder,
    ReceivedSpan,
    ReceiverStartError,
    TraceReceiver,
    group_by_trace,
    is_connected,
    make_console,
    spans_as_json,
    trace_tree,
)

EXAMPLES = Path(__file__).resolve().parent
SUMMARY_PREFIX = "demo-summary: "
_TAIL_LINES = 20


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


CLASSIC, V1 = "classic", "v1"
"""The AG2 lines: classic (``import autogen``) runs in this environment, 1.x (``import ag2``) in ``--v1-venv``."""
LINE_NAMES = {CLASSIC: "AG2 classic", V1: "AG2 1.x"}


@dataclass(frozen=True)
class AgentServer:
    """One A2A agent server of a scenario: ``examples/SCRIPT --name AGENT [ARGUMENTS]``."""

    agent: str
    service: str
    port_option: str
    line: str = CLASSIC
    script: str = "server.py"
    arguments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """Which servers to start and which orchestrator to run against them."""

    servers: tuple[AgentServer, ...]
    script: str
    service: str
    arguments: Callable[[dict[str, str]], list[str]]
    line: str = CLASSIC

    @property
    def lines(self) -> set[str]:
        """The AG2 lines its processes run."""
        return {self.line, *(server.line for server in self.servers)}

    @property
    def services(self) -> set[str]:
        """The service names the complete trace has spans from."""
        return {self.service, *(server.service for server in self.servers)}


TECH = AgentServer("tech_agent", "tech-agent-service", "tech_port")
RESEARCH = AgentServer("research_agent", "research-agent-service", "research_port")
V1_TECH = AgentServer("tech_agent", "tech-agent-service", "tech_port", V1, "v1_agent_server.py")
V1_RESEARCH = AgentServer("research_agent", "research-agent-service", "research_port", V1, "v1_agent_server.py")
CLASSIC_TECH_FOR_V1 = AgentServer(  # a 1.x client refuses a card that offers A2A below 1.0
    "tech_agent", "tech-agent-service", "tech_port", arguments=("--protocol-version", "1.0")
)


def tech_and_research(urls: dict[str, str]) -> list[str]:
    """The orchestrators' arguments: the URLs of the tech and research agent servers."""
    return ["--tech", urls["tech_agent"], "--research", urls["research_agent"]]


def v1_orchestration(*servers: AgentServer) -> Scenario:
    """The AG2 1.x orchestrator (``v1_orchestrator.py``) calling the agents of ``servers``."""
    return Scenario(servers, script="v1_orchestrator.py", service="orchestrator", arguments=tech_and_research, line=V1)


SCENARIOS: dict[str, Scenario] = {
    "group-chat": Scenario(
        servers=(TECH, RESEARCH),
        script="group_chat_with_remote.py",
        service="orchestrator",
        arguments=tech_and_research,
    ),
    "client": Scenario(
        servers=(TECH,),
        script="client.py",
        service="client-service",
        arguments=lambda urls: [urls["tech_agent"]],
    ),
    "v1": v1_orchestration(V1_TECH, V1_RESEARCH),
    "mixed": v1_orchestration(CLASSIC_TECH_FOR_V1, V1_RESEARCH),
}


# -- processes --------------------------------------------------------------------------------------------------


class DemoProcess:
    """A child process whose output is read line by line in the background (the last lines kept for errors)."""

    def __init__(
        self, label: str, command: list[str], env: dict[str, str], echo: Callable[[str, str], None] | None
    ) -> None:
        self.label = label
        self.url: str | None = None
        self._echo = echo
        self._lines: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self._changed = threading.Condition()
        self._ended = False
        try:  # a session of its own: Ctrl-C reaches the demo only, which then stops every process itself
            self._process = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,
            )
        except OSError as exc:
            raise DemoError(f"cannot start {label} ({' '.join(command)}): {exc}") from None
        self._reader = threading.Thread(target=self._read, name=f"demo-{label}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            line = line.rstrip("\n")
            if self._echo is not None:
                self._echo(self.label, line)
            with self._changed:
                self._lines.append(line)
                if self.url is None and line.startswith("READY "):
                    self.url = line.removeprefix("READY ").strip()
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def tail(self) -> str:
        """The process's last output lines, indented (for error messages)."""
        with self._changed:
            lines = list(self._lines)
        return "\n".join(f"    {line}" for line in lines) if lines else "    (no output)"

    def wait_ready(self, timeout: float) -> str:
        """The URL of the process's ``READY <url>`` line, once printed; ``DemoError`` if it exits or times out."""
        with self._changed:
            self._changed.wait_for(lambda: self.url is not None or self._ended, timeout)
            url = self.url
        if url is not None:
            return url
        if self._ended:
            code = self._process.wait()
            raise DemoError(
                f"{self.label} exited with code {code} before it was ready; its last output:\n{self.tail()}"
            )
        raise DemoError(f"{self.label} was not ready within {timeout:.0f}s; its last output:\n{self.tail()}")

    def wait_exit(self, timeout: float) -> int:
        """Wait for the process to end (and its output to be read); its exit code. ``DemoError`` on timeout."""
        try:
            code = self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            message = f"{self.label} did not finish within {timeout:.0f}s; its last output:\n{self.tail()}"
            raise DemoError(message) from None
        self._reader.join(10)
        return code

    def stop(self) -> None:
        """Terminate the process (kill it if it lingers) and finish reading its output."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        self._reader.join(10)


def instrument_launcher() -> str:
    """The ``opentelemetry-instrument`` of this Python environment."""
    found = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
    if found is None:
        raise DemoError(
            "opentelemetry-instrument was not found next to this Python: install the demo dependencies "
            "(bash examples/demo.sh does) or `pip install opentelemetry-distro opentelemetry-exporter-otlp`"
        )
    return found


def v1_launcher(venv: str | None) -> list[str]:
    """``opentelemetry-instrument`` and the Python of the AG2 1.x virtualenv ``venv``."""
    if not venv:
        raise DemoError(
            "this example runs AG2 1.x processes: give its virtualenv with --v1-venv or DEMO_VENV_V1 "
            "(bash examples/demo.sh creates one)"
        )
    scripts = Path(venv) / ("Scripts" if os.name == "nt" else "bin")
    python = shutil.which("python", path=str(scripts))
    launcher = shutil.which("opentelemetry-instrument", path=str(scripts))
    if python is None or launcher is None:
        raise DemoError(
            f"{venv} is not an AG2 1.x virtualenv with opentelemetry-instrument: create it with "
            "bash examples/demo.sh --example v1, or pip install '.[demo]' 'ag2[openai,a2a]>=1' there"
        )
    return [launcher, python]


# -- the trace --------------------------------------------------------------------------------------------------


def main_trace(spans: Sequence[ReceivedSpan], scenario: Scenario) -> list[ReceivedSpan]:
    """The spans of the trace whose root is the orchestrator's (the largest such trace), or ``[]``."""
    candidates = [
        trace
        for trace in group_by_trace(spans).values()
        if any(s.parent_span_id is None and s.service_name == scenario.service for s in trace)
    ]
    return max(candidates, key=len, default=[])


def remote_calls(trace: Sequence[ReceivedSpan]) -> list[ReceivedSpan]:
    """The remote ``invoke_agent`` spans (``gen_ai.agent.remote``), in start order."""
    return sorted((s for s in trace if s.attributes.get("gen_ai.agent.remote") is True), key=lambda s: s.start_ns)


def is_complete(spans: Sequence[ReceivedSpan], scenario: Scenario) -> bool:
    """Every service has spans in the main trace, it is one tree, and every remote call has its server side."""
    trace = main_trace(spans, scenario)
    if not trace or not scenario.services <= {s.service_name for s in trace} or not is_connected(trace):
        return False
    served = {s.parent_span_id for s in trace if s.kind == "SERVER"}
    return all(call.span_id in served for call in remote_calls(trace))


def wait_for_trace(receiver: TraceReceiver, scenario: Scenario, timeout: float, settle: float) -> list[ReceivedSpan]:
    """All spans received once the main trace is complete and no span arrived for ``settle`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = max(deadline - time.monotonic(), 0.0)
        try:
            receiver.wait_for(lambda spans: is_complete(spans, scenario), timeout=remaining)
            spans = receiver.wait_until_quiet(settle, timeout=max(deadline - time.monotonic(), settle * 2))
        except TimeoutError as exc:
            raise DemoError(f"the trace did not complete within {timeout:.0f}s: {exc}") from None
        if is_complete(spans, scenario):
            return spans


def summary(spans: Sequence[ReceivedSpan], trace: Sequence[ReceivedSpan]) -> dict[str, Any]:
    """The machine-checkable summary line's content."""
    roots = [s for s in trace if s.parent_span_id is None]
    return {
        "trace_id": trace[0].trace_id,
        "trace_ids": sorted({s.trace_id for s in spans}),
        "services": sorted({s.service_name for s in trace}),
        "span_count": len(trace),
        "root": roots[0].name if roots else None,
        "remote_calls": [
            {"agent": call.attributes.get("gen_ai.agent.name"), "server.address": call.attributes.get("server.address")}
            for call in remote_calls(trace)
        ],
        "errors": sum(1 for s in trace if s.status_code == "ERROR"),
    }


def show_trace(
    console: Console, spans: Sequence[ReceivedSpan], scenario: Scenario, machine_summary: bool = False
) -> dict[str, Any]:
    """Print the main trace as a tree (and any other trace received) and, with ``machine_summary``, the summary
    as one JSON line; returns the summary."""
    trace = main_trace(spans, scenario)
    console.print()
    console.print(trace_tree(trace))
    others = [t for t in group_by_trace(spans).values() if t[0].trace_id != trace[0].trace_id]
    for other in others:
        console.print()
        console.print("[yellow]another trace was received too:[/]")
        console.print(trace_tree(other))
    result = summary(spans, trace)
    console.print()
    processes = len(scenario.servers) + 1
    if not others:
        console.print(
            f"[bold green]✓ one trace across {processes} processes[/]: {len(trace)} spans from "
            + ", ".join(result["services"])
        )
    else:
        console.print(f"[bold yellow]! {len(others) + 1} traces received: expected one[/]")
    console.print(f"  trace id: [bold]{result['trace_id']}[/]")
    if machine_summary:
        console.print(SUMMARY_PREFIX + json.dumps(result), style="dim", markup=False, soft_wrap=True)
    return result


# -- the run ----------------------------------------------------------------------------------------------------


def start_receiver(options: argparse.Namespace, console: Console) -> TraceReceiver:
    """The in-process OTLP receiver, forwarding to ``OTEL_EXPORTER_OTLP_ENDPOINT`` when that is set."""
    forwarder = None
    forward_to = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if forward_to:
        protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        try:
            forwarder = Forwarder(forward_to, protocol)
        except ValueError as exc:
            raise DemoError(f"cannot forward to OTEL_EXPORTER_OTLP_ENDPOINT={forward_to}: {exc}") from None
    receiver = TraceReceiver(grpc_port=options.otlp_grpc_port, http_port=options.otlp_http_port, forwarder=forwarder)
    try:
        receiver.start()
    except ReceiverStartError as exc:
        if forwarder is not None:
            forwarder.close()
        raise DemoError(f"{exc}. Choose other ports with --otlp-grpc-port/--otlp-http-port (0 = any)") from None
    endpoint = receiver.grpc_endpoint if options.protocol == "grpc" else receiver.http_endpoint
    console.print(f"OTLP receiver listening on {endpoint} ({options.protocol})", highlight=False)
    if forwarder is not None:
        console.print(f"  and forwarding everything to {forward_to} ({forwarder.protocol})", highlight=False)
    return receiver


def echo_to(console: Console, lock: threading.Lock) -> Callable[[str, str], None]:
    """A printer of a process's non-blank output lines, prefixed with its label."""

    def echo(label: str, line: str) -> None:
        if not line.strip():
            return
        with lock:
            console.print(f"  [dim]{escape(label)} │[/] {escape(line)}", highlight=False)

    return echo


def run(options: argparse.Namespace, console: Console) -> int:
    """Start everything, run the orchestrator, print the trace, stop everything."""
    scenario = SCENARIOS[options.example]
    script = EXAMPLES / scenario.script
    if not script.exists():
        raise DemoError(f"{script.name} is missing from {EXAMPLES}")
    launchers = {CLASSIC: [instrument_launcher(), sys.executable]}
    if V1 in scenario.lines:
        launchers[V1] = v1_launcher(options.v1_venv)
    echo = echo_to(console, threading.Lock())
    model = "gpt-4o-mini (OPENAI_API_KEY is set)" if os.environ.get("OPENAI_API_KEY") else "a scripted local stand-in"
    names = " + ".join(LINE_NAMES[line] for line in sorted(scenario.lines))
    lines = "" if scenario.lines == {CLASSIC} else f" ({names})"
    console.print(f"[bold]AG2 demo: {options.example}[/]{lines} — model: {model}")
    with ExitStack() as stack:
        receiver = start_receiver(options, console)
        stack.callback(receiver.stop)
        endpoint = receiver.grpc_endpoint if options.protocol == "grpc" else receiver.http_endpoint
        urls: dict[str, str] = {}
        mixed = len(scenario.lines) > 1
        for server in scenario.servers:
            port = getattr(options, server.port_option)
            label = f"{server.service}, {LINE_NAMES[server.line]}" if mixed else server.service
            console.print(f"starting {server.agent} A2A server ({label})… ", end="", highlight=False)
            process = DemoProcess(
                f"{server.agent} server",
                [
                    *launchers[server.line],
                    str(EXAMPLES / server.script),
                    *("--name", server.agent, "--port", str(port), *server.arguments),
                ],
                instrumented_env(server.service, endpoint, options.protocol),
                echo if options.verbose else None,
            )
            stack.callback(process.stop)
            try:
                urls[server.agent] = process.wait_ready(options.timeout)
            except DemoError as exc:
                console.print("[red]failed[/]")
                hint = f"\nIs port {port} taken? Choose another with --{server.port_option.replace('_', '-')}"
                raise DemoError(f"{exc}{hint if port and 'in use' in str(exc) else ''}") from None
            console.print(f"ready at {urls[server.agent]}", highlight=False)

        label = f"{scenario.service}, {LINE_NAMES[scenario.line]}" if mixed else scenario.service
        console.print(f"running {scenario.script} ({label})…", highlight=False)
        started = time.monotonic()
        orchestrator = DemoProcess(
            scenario.service,
            [*launchers[scenario.line], str(script), *scenario.arguments(urls)],
            instrumented_env(scenario.service, endpoint, options.protocol),
            None if options.quiet else echo,
        )
        stack.callback(orchestrator.stop)
        code = orchestrator.wait_exit(options.timeout)
        if code != 0:
            raise DemoError(f"{scenario.script} exited with code {code}; its last output:\n{orchestrator.tail()}")
        console.print(f"{scenario.script} finished in {time.monotonic() - started:.1f}s", highlight=False)

        console.print("waiting for every service's spans… ", end="")
        spans = wait_for_trace(receiver, scenario, options.timeout, options.settle_ms / 1000)
        console.print(f"{len(spans)} spans received")
        result = show_trace(console, spans, scenario, options.summary)
        if options.json:
            document = {**result, "spans": spans_as_json(spans)}
            Path(options.json).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        receiver.stop()  # also sends what is left to forward
        report_forwarding(console, receiver, options.command)
    return 0 if len(result["trace_ids"]) == 1 else 1


def report_forwarding(console: Console, receiver: TraceReceiver, command: str) -> None:
    """Say where the trace was forwarded, or how to forward it (``command`` is how the demo was run)."""
    forwarder = receiver.forwarder
    if forwarder is None:
        console.print(
            f"  to open it in Jaeger, Tempo or Phoenix: OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 {command}",
            style="dim",
            highlight=False,
        )
    elif forwarder.failed:
        console.print(
            f"[yellow]! {forwarder.failed} of {forwarder.sent + forwarder.failed} exports could not be forwarded "
            f"to {forwarder.endpoint}[/]",
            highlight=False,
        )
    else:
        console.print(f"  forwarded to {forwarder.endpoint} ({forwarder.sent} exports)", highlight=False)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The demo's command line."""
    parser = argparse.ArgumentParser(
        description="Run AG2 agents as separate traced processes and print their one trace as a tree.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--example", choices=sorted(SCENARIOS), default="group-chat", help="which system to run")
    parser.add_argument(
        "--v1-venv",
        default=os.environ.get("DEMO_VENV_V1"),
        metavar="PATH",
        help="the AG2 1.x virtualenv the v1 and mixed examples run their 1.x processes in ($DEMO_VENV_V1)",
    )
    parser.add_argument("--tech-port", type=int, default=0, help="tech_agent server port (0 = any free one)")
    parser.add_argument("--research-port", type=int, default=0, help="research_agent server port (0 = any free one)")
    parser.add_argument("--otlp-grpc-port", type=int, default=0, help="the receiver's OTLP/gRPC port (0 = any)")
    parser.add_argument("--otlp-http-port", type=int, default=0, help="the receiver's OTLP/HTTP port (0 = any)")
    parser.add_argument("--protocol", choices=("grpc", "http/protobuf"), default="grpc", help="OTLP protocol used")
    parser.add_argument("--timeout", type=float, default=120, help="seconds allowed for each step")
    parser.add_argument("--settle-ms", type=float, default=500, help="quiet time before the trace is taken as whole")
    parser.add_argument("--json", metavar="PATH", help="also write the summary and every span to this JSON file")
    parser.add_argument("--quiet", action="store_true", help="do not show the orchestrator's output")
    parser.add_argument(
        "--summary", action="store_true", help=f"also print a one-line JSON summary, prefixed {SUMMARY_PREFIX!r}"
    )
    parser.add_argument("--verbose", action="store_true", help="also show the servers' output")
    options = parser.parse_args(argv)
    launcher = os.environ.get("DEMO_LAUNCHER", "python examples/demo.py")  # demo.sh says it was the launcher
    options.command = shlex.join([*shlex.split(launcher), *(sys.argv[1:] if argv is None else argv)])
    return options


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; 0 when one complete trace was printed."""
    options = parse_args(argv)
    console = make_console()

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):  # the processes are stopped on either
        signal.signal(signum, interrupted)
    try:
        return run(options, console)
    except DemoError as exc:
        console.print(f"\n[bold red]demo failed:[/] {escape(str(exc))}", highlight=False)
        return 1
    except KeyboardInterrupt:
        console.print("\n[yellow]interrupted: every process was stopped[/]")
        return 130


if __name__ == "__main__":
    sys.exit(main())
