"""Zero code, two processes: an AG2 agent using an MCP server's tools through ``MCPToolkit``, one trace per ask.

The asking app (``tests.v1.mcp_app``) and the MCP server (``tests.v1.mcp_server_app``, the mcp SDK's own
server) both run under ``opentelemetry-instrument`` and export real OTLP/gRPC to an in-test receiver; the mcp
SDK makes its own client (``MCP send ...``) and server spans. The toolkit discovers the server's tools while
AG2 sets the turn up, before the turn runs: that discovery, the server's answers to it and the tool's call must
all be in the turn's trace, over streamable HTTP and over stdio. (mcp < 2, under ag2 1.0, makes no spans and
sends no context: there the discovery is the HTTP client's spans, and the server is not in the trace.)
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator

import pytest

from tests.support.otlp_receiver import ReceivedSpan, TraceReceiver, children
from tests.support.processes import RunningProcess, instrumented_module, otlp_env
from tests.v1.mcp_server_app import WEATHER_DESCRIPTION

pytestmark = pytest.mark.timeout(180)

MCP_SCOPE = "mcp-python-sdk"
OUR_SCOPE = "opentelemetry_instrumentation_ag2"
TURN = "invoke_agent weather_agent"
MCP_SDK_TRACES = importlib.util.find_spec("mcp.shared._otel") is not None
"""Whether the mcp SDK makes its own client and server spans and carries W3C context (2.x)."""


@pytest.fixture(scope="module")
def http_server(receiver: TraceReceiver) -> Iterator[str]:
    """The MCP server's streamable HTTP URL, its process under ``opentelemetry-instrument``."""
    env = otlp_env("weather-service-http", receiver.grpc_endpoint, httpx_spans=True)
    with RunningProcess(instrumented_module("tests.v1.mcp_server_app", "http"), env) as server:
        yield server.wait_for_line("READY ")
        server.finish()


def ask(receiver: TraceReceiver, app: str, server: str, *args: str, capture: str = "NO_CONTENT") -> list[ReceivedSpan]:
    """Run the asking app as service ``app``; the spans of ``app`` and ``server`` once the tool call's arrived."""
    env = otlp_env(app, receiver.grpc_endpoint, httpx_spans=True)
    env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = capture
    with RunningProcess(instrumented_module("tests.v1.mcp_app", *args), env) as process:
        assert "REPLY: Sunny in Paris." in process.finish()

    def ours(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
        return [s for s in spans if s.service_name in (app, server)]

    def arrived(spans: list[ReceivedSpan]) -> bool:
        names = {(s.service_name, s.name) for s in ours(spans)}
        return {(app, TURN), (server, "tools/call get_weather")} <= names if MCP_SDK_TRACES else (app, TURN) in names

    receiver.wait_for(arrived, timeout=60)
    return ours(receiver.wait_until_quiet(1.0, timeout=30))


def check_one_trace_with_discovery_beneath_the_turn(spans: list[ReceivedSpan], app: str, server: str) -> None:
    (turn,) = [s for s in spans if s.name == TURN]
    assert (turn.parent_span_id, turn.service_name, turn.status_code) == (None, app, "UNSET")
    assert {s.trace_id for s in spans} == {turn.trace_id}, "one trace for the whole ask, both processes"
    beneath = children(turn, spans)
    first_chat = next(s for s in beneath if s.name == "chat gpt-test")
    assert [s.name for s in beneath if s.scope_name == OUR_SCOPE] == [
        "chat gpt-test",
        "execute_tool get_weather",
        "chat gpt-test",
    ]
    if not MCP_SDK_TRACES:
        return

    by_id = {s.span_id: s for s in spans}
    served = [s for s in spans if s.service_name == server]
    assert served and all(by_id[s.parent_span_id].service_name == app for s in served), "each beneath the caller"
    discovery = [s for s in beneath if s.scope_name == MCP_SCOPE and s.service_name == app]
    assert [(s.name, s.kind) for s in discovery] == [
        ("MCP send initialize", "CLIENT"),
        ("MCP send tools/list", "CLIENT"),
    ]
    assert all(s.end_ns <= first_chat.start_ns for s in discovery), "while AG2 sets the turn up"
    assert [(s.name, s.kind) for d in discovery for s in children(d, spans) if s.service_name == server] == [
        ("initialize", "SERVER"),
        ("tools/list", "SERVER"),
    ]
    handshake_done = [s for s in served if s.name == "notifications/initialized"]
    assert len(handshake_done) == 2, "one per session: the discovery's and the call's"
    assert {by_id[s.parent_span_id].name for s in handshake_done} == {TURN, "execute_tool get_weather"}


def check_one_tool_call_described(spans: list[ReceivedSpan], server: str) -> ReceivedSpan:
    (tool,) = [s for s in spans if s.name.startswith("execute_tool")]
    assert tool.attributes["gen_ai.tool.name"] == "get_weather"
    assert tool.attributes["gen_ai.tool.description"] == WEATHER_DESCRIPTION, "as the MCP server describes it"
    assert (tool.attributes["gen_ai.tool.type"], tool.attributes["gen_ai.tool.call.id"]) == ("function", "c-1")
    assert tool.status_code == "UNSET"
    if MCP_SDK_TRACES:
        (call,) = [s for s in children(tool, spans) if s.name == "MCP send tools/call get_weather"]
        (served,) = [s for s in spans if s.service_name == server and s.name == "tools/call get_weather"]
        assert served.parent_span_id == call.span_id, "the call's one chain; nothing doubled"
    return tool


def test_an_ask_over_streamable_http_is_one_trace(receiver: TraceReceiver, http_server: str) -> None:
    app, server = "weather-app-http", "weather-service-http"
    spans = ask(receiver, app, server, "http", http_server)

    check_one_trace_with_discovery_beneath_the_turn(spans, app, server)
    (turn,) = [s for s in spans if s.name == TURN]
    first_chat = min(s.start_ns for s in spans if s.name == "chat gpt-test")
    setup = [s for s in children(turn, spans) if s.start_ns < first_chat and s.kind == "CLIENT"]
    assert setup, "the discovery's requests, beneath the turn (the mcp SDK's, or only HTTP ones before mcp 2)"
    tool = check_one_tool_call_described(spans, server)
    content_keys = ("gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.tool.definitions")
    assert not [key for s in spans for key in s.attributes if key in content_keys], "no content unless capture is on"
    assert "gen_ai.tool.call.arguments" not in tool.attributes


def test_an_ask_over_stdio_is_one_trace_with_the_mcp_tools_offered_to_the_model(receiver: TraceReceiver) -> None:
    app, server = "weather-app-stdio", "weather-service-stdio"
    spans = ask(receiver, app, server, "stdio", server, capture="SPAN_ONLY")

    check_one_trace_with_discovery_beneath_the_turn(spans, app, server)
    tool = check_one_tool_call_described(spans, server)
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == {"city": "Paris"}
    first_chat = min((s for s in spans if s.name == "chat gpt-test"), key=lambda s: s.start_ns)
    (offered,) = json.loads(first_chat.attributes["gen_ai.tool.definitions"])
    assert offered["function"]["name"] == "get_weather"
    assert offered["function"]["description"] == WEATHER_DESCRIPTION
