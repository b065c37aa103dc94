"""One SERVER span per AG-UI request with opentelemetry-instrumentation-starlette also on (tox env ``v1-starlette``).

``tests.v1.ag_ui_app`` runs under ``opentelemetry-instrument`` with the starlette instrumentor installed too:
starlette's span is each request's one SERVER span (continuing the caller's trace), ``ag-ui-execution`` INTERNAL
beneath it and the served turn beneath that (starlette's per-message ``http send`` spans are its own).
"""

from __future__ import annotations

import pytest

from tests.support.otlp_receiver import ReceivedSpan, TraceReceiver, children
from tests.support.processes import otlp_env
from tests.support.starlette_spans import STARLETTE_SCOPE
from tests.v1.ag_ui_support import CALLER_SPAN_ID, ag_ui_server, caller_trace, post_run

pytestmark = pytest.mark.timeout(180)


def test_starlette_span_is_the_server_span_and_ag_ui_execution_internal_beneath() -> None:
    trace_id, traceparent = caller_trace()

    def complete(spans: list[ReceivedSpan]) -> bool:
        return any(s.name == "ag-ui-execution" for s in spans) and any(s.scope_name == STARLETTE_SCOPE for s in spans)

    with TraceReceiver() as receiver:
        with ag_ui_server(otlp_env("weather-service", receiver.grpc_endpoint, httpx_spans=True)) as url:
            events = post_run(f"{url}weather", "r-1", [("traceparent", traceparent)])
            assert events[-1]["type"] == "RUN_FINISHED"
        spans = receiver.wait_for(complete, timeout=60)

    assert {s.trace_id for s in spans} == {trace_id}
    (server,) = [s for s in spans if s.kind == "SERVER"]
    assert (server.scope_name, server.parent_span_id) == (STARLETTE_SCOPE, CALLER_SPAN_ID)
    (execution,) = [s for s in spans if s.name == "ag-ui-execution"]
    assert execution.kind == "INTERNAL"
    assert execution.parent_span_id == server.span_id
    beneath = children(execution, spans)
    (turn,) = [s for s in beneath if s.scope_name != STARLETTE_SCOPE]
    assert (turn.name, turn.kind) == ("invoke_agent weather_agent", "INTERNAL")
    # the asgi middleware's own ``http send`` / ``http receive`` spans, one per ASGI message: its doing, not ours
    assert all("asgi.event.type" in s.attributes for s in beneath if s is not turn)
