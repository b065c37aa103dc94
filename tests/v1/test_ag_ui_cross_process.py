"""Zero code, two processes: an AG2 agent served over AG-UI under ``opentelemetry-instrument``, an httpx client.

The server exports real OTLP/gRPC to an in-test receiver and has no tracing code and no other instrumentation;
the client sends a W3C ``traceparent`` of its own. Each request must be one ``ag-ui-execution`` SERVER span
continuing the caller's trace, with the served turn beneath it, however many events its answer streams.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.hostile import A_TRACE_ID, MALFORMED_TRACEPARENTS
from tests.support.otlp_receiver import ReceivedSpan, TraceReceiver, children, subtree
from tests.support.processes import otlp_env
from tests.v1.ag_ui_support import (
    CALLER_SPAN_ID,
    ag_ui_server,
    caller_trace,
    execution_of,
    post_run,
    since_ag2_1_1,
    without_volatile_fields,
)

pytestmark = pytest.mark.timeout(180)

SERVICE = "weather-service"


@pytest.fixture(scope="module")
def server(receiver: TraceReceiver) -> Iterator[str]:
    """The base URL of the AG-UI app, under ``opentelemetry-instrument``."""
    with ag_ui_server(otlp_env(SERVICE, receiver.grpc_endpoint, httpx_spans=True)) as url:
        yield url


@pytest.fixture(scope="module")
def untraced_server() -> Iterator[str]:
    """The same app in a process with no instrumentation at all."""
    with ag_ui_server(otlp_env("untraced", "http://127.0.0.1:9"), traced=False) as url:
        yield url


def served_run(receiver: TraceReceiver, run_id: str, spans_beneath: int) -> list[ReceivedSpan]:
    """The spans once run ``run_id``'s execution span and ``spans_beneath`` spans under it have arrived."""

    def arrived(spans: list[ReceivedSpan]) -> bool:
        found = [s for s in spans if s.name == "ag-ui-execution" and s.attributes.get("ag_ui.run.id") == run_id]
        return bool(found) and len(subtree(found[0], spans)) > spans_beneath

    return receiver.wait_for(arrived, timeout=60)


def test_a_served_turn_continues_the_callers_trace_beneath_one_server_span(
    server: str, receiver: TraceReceiver
) -> None:
    trace_id, traceparent = caller_trace()
    events = post_run(f"{server}weather", "r-continued", [("traceparent", traceparent)])
    assert (events[0]["type"], events[-1]["type"]) == ("RUN_STARTED", "RUN_FINISHED")
    assert len(events) >= 6, "an answer of several events"

    spans = served_run(receiver, "r-continued", spans_beneath=4)
    execution = execution_of(spans, "r-continued")
    run = subtree(execution, spans)
    assert {s.trace_id for s in run} == {trace_id}, "the caller's trace"
    assert {s.span_id for s in spans if s.trace_id == trace_id} == {s.span_id for s in run}, "and nothing else"
    assert (execution.parent_span_id, execution.kind, execution.status_code) == (CALLER_SPAN_ID, "SERVER", "UNSET")
    assert execution.service_name == SERVICE
    assert execution.scope_name == "opentelemetry_instrumentation_ag2"
    port = int(server.rstrip("/").rsplit(":", 1)[1])
    assert execution.attributes == {
        "http.request.method": "POST",
        "http.route": "/weather",
        "url.path": "/weather",
        "url.scheme": "http",
        "server.address": "127.0.0.1",
        "server.port": port,
        "client.address": "127.0.0.1",
        "http.response.status_code": 200,
        "ag_ui.thread.id": "t-1",
        "ag_ui.run.id": "r-continued",
    }
    turn = children(execution, spans)
    assert [(s.name, s.kind, s.status_code) for s in turn] == [("invoke_agent weather_agent", "INTERNAL", "UNSET")]
    assert sorted((s.name, s.kind) for s in run[2:]) == [
        ("chat gpt-test", "CLIENT"),
        ("chat gpt-test", "CLIENT"),
        ("execute_tool get_weather", "INTERNAL"),
    ]
    assert len(run) == 5, "one span per request, none per server-sent event"


@since_ag2_1_1("drops the stream of a failed run instead of sending RUN_ERROR")
def test_a_run_that_fails_marks_its_request_span_failed_in_a_200(server: str, receiver: TraceReceiver) -> None:
    trace_id, traceparent = caller_trace()
    events = post_run(f"{server}broken/", "r-failed", [("traceparent", traceparent)])
    assert [e["type"] for e in events] == ["RUN_STARTED", "RUN_ERROR"]

    spans = served_run(receiver, "r-failed", spans_beneath=1)
    execution = execution_of(spans, "r-failed")
    assert (execution.trace_id, execution.parent_span_id, execution.kind) == (trace_id, CALLER_SPAN_ID, "SERVER")
    assert execution.attributes["http.route"] == "/broken"
    assert execution.attributes["http.response.status_code"] == 200
    assert (execution.status_code, execution.attributes["error.type"]) == ("ERROR", "RUN_ERROR")
    (turn,) = children(execution, spans)
    assert (turn.name, turn.status_code) == ("invoke_agent broken_agent", "ERROR")


@since_ag2_1_1("has no GET capabilities route")
def test_a_capabilities_request_is_one_span(server: str, receiver: TraceReceiver) -> None:
    trace_id, traceparent = caller_trace()
    with httpx.Client(timeout=30) as client:
        response = client.get(f"{server}broken/", headers={"traceparent": traceparent})
    assert response.json()["identity"]["name"] == "broken_agent"

    def arrived(spans: list[ReceivedSpan]) -> bool:
        return any(s.name == "ag-ui-execution" and s.attributes["http.request.method"] == "GET" for s in spans)

    spans = receiver.wait_for(arrived, timeout=60)
    (execution,) = [s for s in spans if s.name == "ag-ui-execution" and s.attributes["http.request.method"] == "GET"]
    assert (execution.trace_id, execution.parent_span_id) == (trace_id, CALLER_SPAN_ID)
    assert (execution.kind, execution.attributes["http.response.status_code"]) == ("SERVER", 200)
    assert children(execution, spans) == []


@pytest.mark.parametrize("name", MALFORMED_TRACEPARENTS)
def test_a_malformed_traceparent_starts_a_fresh_trace_and_changes_no_answer(
    name: str, server: str, untraced_server: str, receiver: TraceReceiver
) -> None:
    run_id = f"r-hostile-{name.replace(' ', '-')}"
    headers = [("traceparent", MALFORMED_TRACEPARENTS[name].encode("utf-8"))]
    answer = post_run(f"{server}weather", run_id, headers)
    untraced_answer = post_run(f"{untraced_server}weather", run_id, headers)
    assert without_volatile_fields(answer) == without_volatile_fields(untraced_answer)

    spans = served_run(receiver, run_id, spans_beneath=4)
    execution = execution_of(spans, run_id)
    assert (execution.parent_span_id, execution.kind, execution.status_code) == (None, "SERVER", "UNSET")
    assert execution.trace_id not in (A_TRACE_ID, "0" * 32), "a fresh trace"
    assert {s.trace_id for s in subtree(execution, spans)} == {execution.trace_id}
    assert len(subtree(execution, spans)) == 5
