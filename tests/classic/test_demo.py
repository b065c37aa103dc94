"""The README's first command, as a newcomer runs it: the demo's processes, one trace, printed as a tree."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from tests.support.demo_runs import SUMMARY_PREFIX, demo_env, run_demo
from tests.support.fixtures import SpanCollector
from tests.support.otlp_receiver import TraceReceiver
from tests.support.processes import EXAMPLES, ROOT, background, otlp_env

from .conftest import by_name, parent_of

GUIDE = re.compile(r"((?:│   |    )*)(?:├── |└── )(.*)")


@dataclass
class Node:
    """One line of the printed tree: the span's name, its ``[service]``, the rest of the line, its children."""

    name: str
    service: str
    details: str
    children: list[Node] = field(default_factory=list)

    def find(self, name: str) -> list[Node]:
        return [child for child in self.children if child.name == name]


@dataclass
class DemoRun:
    """What one run of the demo printed."""

    output: str
    summary: dict
    root: Node
    urls: dict[str, str]


def parse_tree(output: str) -> Node:
    """The printed tree of the main trace (the lines after ``trace <id>``), rebuilt from its guides."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("trace "))
    top = Node(lines[start], "", "")
    stack = [top]
    for line in lines[start + 1 :]:
        found = GUIDE.fullmatch(line)
        if found is None:
            break
        depth = len(found.group(1)) // 4 + 1
        name, service, details = re.fullmatch(r"(.+?)  \[(.+?)\]  (.*)", found.group(2)).groups()  # type: ignore[union-attr]
        node = Node(name, service, details)
        del stack[depth:]
        stack[-1].children.append(node)
        stack.append(node)
    assert len(top.children) == 1, f"one root span expected:\n{output}"
    return top.children[0]


def parse_run(output: str, summary: dict | None = None) -> DemoRun:
    """The demo's output; its summary from the ``--summary`` line unless given (e.g. from its ``--json`` file)."""
    summary_lines = [line for line in output.splitlines() if line.startswith(SUMMARY_PREFIX)]
    assert len(summary_lines) == (0 if summary else 1), output
    if summary is None:
        summary = json.loads(summary_lines[0].removeprefix(SUMMARY_PREFIX))
    urls = dict(re.findall(r"starting (\w+) A2A server .*ready at (\S+)", output))
    return DemoRun(output, summary, parse_tree(output), urls)


def assert_remote_call(
    call: Node, url: str, service: str, agent: str, rpc_method: str = "message/stream", classic_server: bool = True
) -> None:
    """A remote ``invoke_agent`` line and the server's ``a2a-execution`` subtree under it: a classic server runs
    the agent in a ``conversation``, a 1.x one runs its turn directly. (A2A 1.0 names the method
    ``SendStreamingMessage``, 0.3 ``message/stream``.)"""
    assert call.service in ("orchestrator", "client-service")
    assert "  CLIENT  " in call.details
    assert "gen_ai.agent.remote=true" in call.details
    assert f"server.address={url}" in call.details
    executions = call.find("a2a-execution")
    assert executions and all(e.service == service and "  SERVER  " in e.details for e in executions)
    served = [e for e in executions if "http.request.method=POST" in e.details]
    assert len(served) == 1
    assert f"rpc.method={rpc_method}" in served[0].details
    assert "http.response.status_code=200" in served[0].details
    if classic_server:
        (conversation,) = served[0].children
        assert (conversation.name, conversation.service) == (f"conversation {agent}", service)
        (turn,) = conversation.find(f"invoke_agent {agent}")
    else:
        (turn,) = served[0].children
        assert (turn.name, turn.service) == (f"invoke_agent {agent}", service)
    (llm,) = turn.find("chat gpt-4o-mini")
    assert "  CLIENT  " in llm.details
    assert re.search(r"gen_ai\.usage\.output_tokens=[1-9]", llm.details)


def assert_group_chat_trace(run: DemoRun) -> None:
    services = ["orchestrator", "research-agent-service", "tech-agent-service"]
    assert run.summary["trace_ids"] == [run.summary["trace_id"]], "one trace id"
    assert run.summary["services"] == services
    assert run.summary["root"] == "conversation chat_manager"
    assert f"trace {run.summary['trace_id']}  ·  {run.summary['span_count']} spans  ·  3 services: " in run.output
    assert f"trace id: {run.summary['trace_id']}" in run.output
    assert "✓ one trace across 3 processes" in run.output

    root = run.root
    assert (root.name, root.service) == ("conversation chat_manager", "orchestrator")
    selections = root.find("speaker_selection")
    assert len(selections) >= 2
    assert any(c.name == "invoke_agent speaker_selection_agent" for s in selections for c in s.children)
    assert root.find("invoke_agent triage_agent")
    (tech_call,) = root.find("invoke_agent tech_agent")
    (research_call,) = root.find("invoke_agent research_agent")
    assert_remote_call(tech_call, run.urls["tech_agent"], "tech-agent-service", "tech_agent")
    assert_remote_call(research_call, run.urls["research_agent"], "research-agent-service", "research_agent")
    names = [child.name for child in root.children]
    assert names.index("invoke_agent tech_agent") < names.index("invoke_agent research_agent")


def project_files(source: Path) -> list[str]:
    """The project's files: as a fresh clone has them (tracked and new, not ignored) in a git checkout, else every
    file of the tree (an unpacked sdist)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=source, capture_output=True
    )
    if listed.returncode == 0 and shutil.which("git"):
        return list(filter(None, listed.stdout.decode().split("\0")))
    return [str(path.relative_to(source)) for path in source.rglob("*") if path.is_file()]


def clone_like(source: Path, target: Path) -> Path:
    """A copy of the project's files, without virtualenvs, tox environments and build leftovers."""
    for name in project_files(source):
        parts = Path(name).parts
        if any(part.startswith((".venv", ".tox", ".ci-venv")) or part == "__pycache__" for part in parts):
            continue
        if (source / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target / name)
    return target


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield clone_like(ROOT, tmp_path_factory.mktemp("clone"))


@dataclass(frozen=True)
class DemoVenvs:
    """Where demo.sh makes its virtualenvs in this module's runs (each created once, by the first run needing it)."""

    classic: Path
    v1: Path

    def env(self) -> dict[str, str]:
        return demo_env(DEMO_VENV=str(self.classic), DEMO_VENV_V1=str(self.v1))


@pytest.fixture(scope="module")
def venvs(tmp_path_factory: pytest.TempPathFactory) -> DemoVenvs:
    where = tmp_path_factory.mktemp("demo-venvs")
    return DemoVenvs(where / "venv", where / "venv-v1")


@pytest.fixture(scope="module")
def v1_venvs(clone: Path, venvs: DemoVenvs) -> DemoVenvs:
    """Both virtualenvs, made (or found up to date) by demo.sh as for ``--example v1``."""
    code, output = run_demo(["bash", "examples/demo.sh", "--example", "v1", "--help"], clone, venvs.env(), 840)
    assert code == 0, output
    assert (venvs.v1 / ".demo-installed").is_file(), output
    return venvs


def run_with_both_venvs(clone: Path, venvs: DemoVenvs, *args: str) -> str:
    """``examples/demo.sh *args`` run to success in ``clone`` on both virtualenvs, which it reuses; its output."""
    code, output = run_demo(["bash", "examples/demo.sh", *args], clone, venvs.env(), timeout=300)
    assert code == 0, output
    assert "installing" not in output, "both virtualenvs are reused"
    return output


def assert_printed(output: str, *lines: str) -> None:
    """Each of these regular expressions matches somewhere in the demo's ``output``."""
    for line in lines:
        assert re.search(line, output), output


@pytest.mark.timeout(900)
def test_readme_first_command_shows_one_trace_of_the_group_chat(clone: Path, venvs: DemoVenvs) -> None:
    pyproject = (clone / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r"^demo = \[", pyproject, re.MULTILINE), "pyproject.toml needs the `demo` extra demo.sh installs"
    env = venvs.env()

    code, output = run_demo(["bash", "examples/demo.sh", "--summary"], clone, env, timeout=840)

    assert code == 0, output
    assert "creating the demo virtualenv" in output
    assert_printed(
        output,
        r"starting tech_agent A2A server \(tech-agent-service\)… ready at http://127\.0\.0\.1:\d+/",
        r"starting research_agent A2A server \(research-agent-service\)… ready at http://127\.0\.0\.1:\d+/",
        r"group_chat_with_remote\.py finished in [\d.]+s",
    )
    assert_group_chat_trace(parse_run(output))
    assert not (clone / ".venv-demo").exists()
    assert not venvs.v1.exists(), "the classic examples need no AG2 1.x virtualenv"

    code, again = run_demo(
        ["bash", "examples/demo.sh", "--example", "client", "--quiet", "--summary"], clone, env, timeout=300
    )
    assert code == 0, again
    assert "installing" not in again, "the second run reuses the virtualenv"
    assert parse_run(again).summary["services"] == ["client-service", "tech-agent-service"]


def assert_v1_orchestration(run: DemoRun, tech_server: str) -> None:
    """The 1.x orchestrator's one trace: its turn, its LLM calls, and each remote agent used as a tool."""
    assert run.summary["trace_ids"] == [run.summary["trace_id"]], "one trace id"
    assert run.summary["services"] == ["orchestrator", "research-agent-service", "tech-agent-service"]
    assert run.summary["root"] == "invoke_agent orchestrator"
    assert [call["agent"] for call in run.summary["remote_calls"]] == ["tech_agent", "research_agent"]
    assert run.summary["errors"] == 0
    assert "✓ one trace across 3 processes" in run.output

    root = run.root
    assert (root.name, root.service) == ("invoke_agent orchestrator", "orchestrator")
    assert [child.name for child in root.children] == [
        "chat gpt-4o-mini",
        "execute_tool ask_tech_agent",
        "chat gpt-4o-mini",
        "execute_tool ask_research_agent",
        "chat gpt-4o-mini",
    ]
    assert all("  CLIENT  " in c.details and c.service == "orchestrator" for c in root.find("chat gpt-4o-mini"))
    (tech_tool,) = root.find("execute_tool ask_tech_agent")
    (tech_call,) = tech_tool.find("invoke_agent tech_agent")
    (research_tool,) = root.find("execute_tool ask_research_agent")
    (research_call,) = research_tool.find("invoke_agent research_agent")
    a2a_1 = "SendStreamingMessage"
    classic = tech_server == "classic"
    assert_remote_call(tech_call, run.urls["tech_agent"], "tech-agent-service", "tech_agent", a2a_1, classic)
    assert_remote_call(
        research_call, run.urls["research_agent"], "research-agent-service", "research_agent", a2a_1, False
    )


@pytest.mark.timeout(900)
def test_v1_example_is_one_trace_of_the_same_system_on_ag2_1x(clone: Path, v1_venvs: DemoVenvs) -> None:
    output = run_with_both_venvs(clone, v1_venvs, "--example", "v1", "--summary")

    assert "AG2 demo: v1 (AG2 1.x)" in output
    assert_printed(
        output,
        r"starting tech_agent A2A server \(tech-agent-service\)… ready at http://127\.0\.0\.1:\d+/",
        r"starting research_agent A2A server \(research-agent-service\)… ready at http://127\.0\.0\.1:\d+/",
        r"orchestrator │ orchestrator: Start with a backtrace",
    )
    assert_v1_orchestration(parse_run(output), tech_server="v1")
    assert not (clone / ".venv-demo-v1").exists()


@pytest.mark.timeout(900)
def test_mixed_example_is_one_trace_across_both_ag2_lines(clone: Path, v1_venvs: DemoVenvs) -> None:
    output = run_with_both_venvs(clone, v1_venvs, "--example=mixed", "--quiet", "--summary")

    assert_printed(
        output,
        r"starting tech_agent A2A server \(tech-agent-service, AG2 classic\)… ready at",
        r"starting research_agent A2A server \(research-agent-service, AG2 1\.x\)… ready at",
        r"running v1_orchestrator\.py \(orchestrator, AG2 1\.x\)",
    )
    assert_v1_orchestration(parse_run(output), tech_server="classic")


REFUSALS = {
    "a2a.utils.errors.VersionNotSupportedError",  # a2a-sdk 1.x: the card offers no 0.3 interface
    "autogen.a2a.errors.A2aAgentNotFoundError",  # a2a-sdk 0.3 (ag2 0.12): the 1.0 card does not parse
}
"""How a classic ``A2aRemoteAgent`` refuses a 1.x ``A2AServer``, by the a2a-sdk release it runs on."""


async def ask_remote(url: str) -> BaseException:
    """A classic user asks the remote agent; the exception that reaches the app."""
    from autogen import ConversableAgent
    from autogen.a2a import A2aRemoteAgent

    user = ConversableAgent(name="user", human_input_mode="NEVER", llm_config=False, max_consecutive_auto_reply=1)
    remote = A2aRemoteAgent(url, name="tech_agent")
    with pytest.raises(Exception) as raised:
        await user.a_initiate_chat(remote, message="My app segfaults.", max_turns=1, silent=True)
    return raised.value


@pytest.mark.timeout(900)
async def test_a_classic_client_is_refused_by_a_1x_server_as_uninstrumented(
    v1_venvs: DemoVenvs, clone: Path, tracer_provider: TracerProvider, span_exporter: SpanCollector
) -> None:
    """Classic A2A (0.3) cannot talk to a 1.x server (1.0 only): the protocol refuses, tracing only records it."""
    bin_v1 = v1_venvs.v1 / "bin"
    command = [str(bin_v1 / "opentelemetry-instrument"), str(bin_v1 / "python")]
    command += [str(clone / "examples" / "v1_agent_server.py"), "--port", "0"]
    with TraceReceiver() as receiver:
        environment = otlp_env("tech-agent-service", receiver.grpc_endpoint)
        environment = {k: v for k, v in environment.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        with background(command, environment) as server:
            plain = await ask_remote(server.url)
            instrumentor = AG2Instrumentor()
            instrumentor.instrument(tracer_provider=tracer_provider)
            try:
                traced = await ask_remote(server.url)
            finally:
                instrumentor.uninstrument()
            card = httpx.get(server.url.rstrip("/") + "/.well-known/agent-card.json", timeout=10)
            assert card.status_code == 200, "the server still serves"
            assert server.process.poll() is None
            served = receiver.wait_for(lambda spans: len(by_name(spans, "a2a-execution")) >= 3, timeout=30)

    assert (type(traced), str(traced)) == (type(plain), str(plain)), "the app gets what it gets uninstrumented"
    error_type = f"{type(traced).__module__}.{type(traced).__qualname__}"
    assert error_type in REFUSALS, repr(traced)

    spans = span_exporter.get_finished_spans()
    (call,) = by_name(spans, "invoke_agent tech_agent")
    assert call.kind.name == "CLIENT"
    assert call.attributes["gen_ai.agent.remote"] is True
    assert call.attributes["server.address"] == server.url
    assert call.status.status_code.name == "ERROR"
    assert call.attributes["error.type"] == error_type
    assert any(event.name == "exception" for event in call.events)
    conversation = parent_of(call, spans)
    assert conversation is not None and conversation.name == "conversation user"
    assert conversation.attributes["error.type"] == error_type
    assert {s.context.trace_id for s in spans} == {call.context.trace_id}

    # the server: a card request per ask (and the check above), each answered; the traced one continues the trace
    executions = by_name(served, "a2a-execution")
    assert all(s.kind == "SERVER" and s.service_name == "tech-agent-service" for s in executions)
    assert all(s.status_code != "ERROR" and s.attributes.get("http.response.status_code") == 200 for s in executions)
    assert all(s.attributes.get("http.request.method") == "GET" for s in executions), "no message was sent"
    continued = [s for s in executions if s.parent_span_id == format(call.context.span_id, "016x")]
    assert len(continued) == 1
    assert continued[0].trace_id == format(call.context.trace_id, "032x")
    assert not [s for s in served if s.name != "a2a-execution"], "the agent never ran"


@pytest.mark.timeout(300)
def test_client_example_in_the_development_environment_forwarding_to_a_backend(tmp_path: Path) -> None:
    report = tmp_path / "trace.json"
    command = [sys.executable, str(EXAMPLES / "demo.py"), "--example", "client", "--json", str(report)]

    with TraceReceiver() as backend:  # the user's own Jaeger / Tempo / Phoenix
        env = demo_env(OTEL_EXPORTER_OTLP_ENDPOINT=backend.http_endpoint, OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf")
        code, output = run_demo(command, tmp_path, env, timeout=240)
        forwarded = backend.spans

    assert code == 0, output
    document = json.loads(report.read_text(encoding="utf-8"))
    run = parse_run(output, summary=document)  # no --summary: no machine-readable line in the output
    assert run.summary["trace_ids"] == [run.summary["trace_id"]]
    assert run.summary["services"] == ["client-service", "tech-agent-service"]
    assert "client-service │ user_proxy (to tech_agent):" in output, "the orchestrator's output is shown"
    root = run.root
    assert (root.name, root.service) == ("conversation user_proxy", "client-service")
    assert [child.name for child in root.children] == [
        "invoke_agent tech_agent",
        "invoke_agent user_proxy",
        "invoke_agent tech_agent",
    ]
    for call in root.find("invoke_agent tech_agent"):
        assert_remote_call(call, run.urls["tech_agent"], "tech-agent-service", "tech_agent")

    spans = document["spans"]
    assert all(s["start_time_unix_nano"] > 0 for s in spans)
    assert f"and forwarding everything to {backend.http_endpoint} (http/protobuf)" in output
    assert re.search(rf"forwarded to {backend.http_endpoint} \(\d+ exports\)", output)
    assert sorted(s.span_id for s in forwarded) == sorted(s["span_id"] for s in spans)
    assert {s["trace_id"] for s in spans} == {run.summary["trace_id"]}
    assert len(spans) == run.summary["span_count"]
    by_id = {s["span_id"]: s for s in spans}
    for s in spans:
        assert s["parent_span_id"] is None or s["parent_span_id"] in by_id
        if s["name"] == "a2a-execution":
            assert by_id[s["parent_span_id"]]["name"] == "invoke_agent tech_agent"


@pytest.mark.timeout(120)
def test_a_taken_port_fails_clearly_with_the_servers_last_output(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, str(EXAMPLES / "demo.py"), "--example", "client", "--tech-port", str(port)]

        code, output = run_demo(command, tmp_path, demo_env(), timeout=90)

    assert code == 1, output
    assert "demo failed: tech_agent server exited with code 1 before it was ready; its last output:" in output
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in output
    assert f"Is port {port} taken? Choose another with --tech-port" in output
    assert "trace id" not in output


def test_local_stack_files_agree_with_each_other() -> None:
    """The Docker stack (not started here): collector on host 14317/14318 -> Tempo -> Grafana on 3333."""
    import yaml  # installed with AG2

    stack = EXAMPLES / "local-stack"
    compose = yaml.safe_load((stack / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["otel-collector"]["ports"] == ["14317:4317", "14318:4318"]
    assert services["grafana"]["ports"] == ["3333:3000"]
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert not source.startswith(".") or (stack / source).is_file(), volume

    collector = yaml.safe_load((stack / "otel-collector.yaml").read_text(encoding="utf-8"))
    protocols = collector["receivers"]["otlp"]["protocols"]
    assert (protocols["grpc"]["endpoint"], protocols["http"]["endpoint"]) == ("0.0.0.0:4317", "0.0.0.0:4318")
    traces = collector["service"]["pipelines"]["traces"]
    assert "otlp/tempo" in traces["exporters"]
    assert collector["exporters"]["otlp/tempo"]["endpoint"] == "tempo:4317"

    tempo = yaml.safe_load((stack / "tempo.yaml").read_text(encoding="utf-8"))
    assert tempo["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"
    datasources = yaml.safe_load((stack / "grafana-datasources.yaml").read_text(encoding="utf-8"))["datasources"]
    assert [(d["type"], d["url"]) for d in datasources] == [
        ("tempo", f"http://tempo:{tempo['server']['http_listen_port']}")
    ]
