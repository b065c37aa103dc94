"""The demo forwarding its trace to a real Arize Phoenix: Phoenix holds the trace whole.

``phoenix serve`` runs as a child process on free ports of 127.0.0.1, with its database in a temporary working
directory; the group-chat demo runs with ``OTEL_EXPORTER_OTLP_ENDPOINT`` at Phoenix's OTLP/gRPC port, and the
trace is read back through Phoenix's REST API (``GET /v1/projects/{project}/spans``).

Phoenix keeps no resource attributes (so no ``service.name``): which process each span came from is taken from the
demo's own record of the same span ids (``--json``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.demo_runs import SUMMARY_PREFIX, demo_env, run_demo
from tests.support.processes import EXAMPLES, terminate

HOST = "127.0.0.1"
SERVICES = ["orchestrator", "research-agent-service", "tech-agent-service"]
PROJECT = "default"  # the demo's processes name no Phoenix project (resource attribute openinference.project.name)
POLL = 0.25  # seconds between two looks, spent waiting on Phoenix's process (so its exit ends the wait at once)
STARTUP_TIMEOUT = 120.0
SPANS_TIMEOUT = 60.0

# run by `tox -e phoenix`, which installs arize-phoenix; no other environment collects this folder


@dataclass
class Phoenix:
    """A running ``phoenix serve``: its HTTP base URL, its OTLP/gRPC endpoint, its process and log."""

    url: str
    grpc_endpoint: str
    process: subprocess.Popen
    log: Path

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` pass, or fail at once if Phoenix exits meanwhile."""
        try:
            code = self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            return
        pytest.fail(f"phoenix serve exited with code {code}; its last output:\n{self.tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            terminate(self.process, grace=30)


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that are free on 127.0.0.1 now (held together while they are chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def phoenix_env(working_dir: Path, http_port: int, grpc_port: int) -> dict[str, str]:
    """Phoenix's settings: loopback, the given ports, everything in ``working_dir``, nothing fetched from outside."""
    placeholder = working_dir / "wasm-sandbox-unused.bin"
    # Phoenix fetches a CPython WASM binary for its code sandbox at startup unless this names an existing file;
    # the sandbox is never used here, so any file will do.
    placeholder.write_text("not used: no code sandbox is run\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PHOENIX_"))}
    return env | {
        "PHOENIX_HOST": HOST,
        "PHOENIX_PORT": str(http_port),
        "PHOENIX_GRPC_PORT": str(grpc_port),
        "PHOENIX_WORKING_DIR": str(working_dir),
        "PHOENIX_WASM_BINARY_PATH": str(placeholder),
        "PHOENIX_TELEMETRY_ENABLED": "false",
        "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
        "PHOENIX_DISABLE_AGENT_ASSISTANT": "true",
    }


@pytest.fixture
def phoenix(tmp_path: Path) -> Iterator[Phoenix]:
    """``phoenix serve`` on free ports of 127.0.0.1, once its ``/readyz`` answers 200; stopped afterwards."""
    working_dir = tmp_path / "phoenix"
    working_dir.mkdir()
    http_port, grpc_port = free_ports(2)
    log = tmp_path / "phoenix.log"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "phoenix.server.main", "serve"],
            cwd=working_dir,
            env=phoenix_env(working_dir, http_port, grpc_port),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Phoenix(f"http://{HOST}:{http_port}", f"http://{HOST}:{grpc_port}", process, log)
    try:
        wait_ready(server)
        yield server
    finally:
        server.stop()


def wait_ready(server: Phoenix) -> None:
    """Poll ``GET /readyz`` (200 once the database answers and the OTLP receivers are up)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(base_url=server.url, timeout=5) as client:
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"phoenix serve was not ready within {STARTUP_TIMEOUT:.0f}s:\n{server.tail()}")
            server.wait(POLL)


def phoenix_spans(client: httpx.Client, trace_id: str) -> list[dict[str, Any]]:
    """Every span Phoenix holds for ``trace_id`` (all pages)."""
    spans: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"trace_id": trace_id, "limit": 1000}
        if cursor:
            params["cursor"] = cursor
        response = client.get(f"/v1/projects/{PROJECT}/spans", params=params)
        if response.status_code == 404:  # the project appears with its first span
            return []
        response.raise_for_status()
        body = response.json()
        spans.extend(body["data"])
        cursor = body.get("next_cursor")
        if not cursor:
            return spans


def wait_for_spans(server: Phoenix, trace_id: str, count: int) -> list[dict[str, Any]]:
    """Phoenix's spans of ``trace_id`` once it holds at least ``count`` of them (it stores them asynchronously)."""
    deadline = time.monotonic() + SPANS_TIMEOUT
    with httpx.Client(base_url=server.url, timeout=10) as client:
        while True:
            spans = phoenix_spans(client, trace_id)
            if len(spans) >= count:
                return spans
            if time.monotonic() > deadline:
                names = sorted(s["name"] for s in spans)
                pytest.fail(f"Phoenix holds {len(spans)} of the {count} spans of trace {trace_id}: {names}")
            server.wait(POLL)


def demo_summary(output: str) -> dict[str, Any]:
    lines = [line for line in output.splitlines() if line.startswith(SUMMARY_PREFIX)]
    assert len(lines) == 1, output
    return json.loads(lines[0].removeprefix(SUMMARY_PREFIX))


@pytest.mark.timeout(420)
def test_phoenix_holds_the_group_chat_trace_whole(phoenix: Phoenix, tmp_path: Path) -> None:
    report = tmp_path / "trace.json"
    command = [sys.executable, str(EXAMPLES / "demo.py"), "--summary", "--json", str(report)]
    env = demo_env(OTEL_EXPORTER_OTLP_ENDPOINT=phoenix.grpc_endpoint, OTEL_EXPORTER_OTLP_PROTOCOL="grpc")

    code, output = run_demo(command, tmp_path, env, timeout=240)

    assert code == 0, output
    summary = demo_summary(output)
    trace_id, span_count = summary["trace_id"], summary["span_count"]
    assert summary["trace_ids"] == [trace_id], output
    assert summary["services"] == SERVICES
    assert summary["root"] == "conversation chat_manager"
    assert f"and forwarding everything to {phoenix.grpc_endpoint} (grpc)" in output
    assert f"forwarded to {phoenix.grpc_endpoint} (" in output, output  # and not "could not be forwarded"
    recorded = {s["span_id"]: s for s in json.loads(report.read_text(encoding="utf-8"))["spans"]}
    assert len(recorded) == span_count

    spans = wait_for_spans(phoenix, trace_id, span_count)

    # every span of the trace arrived, once, and nothing else under its id
    assert sorted(s["context"]["span_id"] for s in spans) == sorted(recorded), phoenix.tail()
    assert {s["context"]["trace_id"] for s in spans} == {trace_id}
    # one tree: exactly one root, every other span's parent among the trace's spans
    roots = [s for s in spans if s["parent_id"] is None]
    assert [root["name"] for root in roots] == ["conversation chat_manager"]
    assert all(s["parent_id"] in recorded for s in spans if s is not roots[0])
    names = {s["name"] for s in spans}
    expected = {
        "conversation chat_manager",
        "invoke_agent triage_agent",
        "invoke_agent tech_agent",
        "invoke_agent research_agent",
        "chat gpt-4o-mini",
        "a2a-execution",
    }
    assert expected <= names, sorted(names)
    # the spans Phoenix holds come from the demo's three processes, the A2A servers' from the two agent services
    assert sorted({recorded[s["context"]["span_id"]]["service"] for s in spans}) == SERVICES
    servers = {recorded[s["context"]["span_id"]]["service"] for s in spans if s["name"] == "a2a-execution"}
    assert servers == {"tech-agent-service", "research-agent-service"}
    # as Phoenix reads them: agents as agents, model calls as LLM calls with their tokens
    assert {s["span_kind"] for s in spans if s["name"].startswith("invoke_agent ")} == {"AGENT"}
    chats = [s for s in spans if s["name"] == "chat gpt-4o-mini"]
    assert {s["span_kind"] for s in chats} == {"LLM"}
    assert all(s["attributes"].get("llm.token_count.total", 0) > 0 for s in chats)
