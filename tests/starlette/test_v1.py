"""One SERVER span per request with opentelemetry-instrumentation-starlette also installed (AG2 1.x).

``tests.v1.a2a_app``'s server and client each run under ``opentelemetry-instrument``, exporting OTLP to an
in-test receiver; the starlette instrumentor traces every request the server takes too. Each request must
have starlette's span as its one SERVER span, and ``a2a-execution`` INTERNAL beneath it.
"""

from __future__ import annotations

import pytest

from tests.support.otlp_receiver import ReceivedSpan, at_least, children, only
from tests.support.starlette_spans import STARLETTE_SCOPE, is_request_span
from tests.v1.a2a_support import ask_across_processes

pytestmark = pytest.mark.timeout(180)


def complete(spans: list[ReceivedSpan]) -> bool:
    served = at_least({"invoke_agent triage": 1, "a2a-execution": 4, "chat gpt-test": 4})
    return served(spans) and sum(map(is_request_span, spans)) >= 4


@pytest.mark.parametrize("transport", ["jsonrpc", "rest"])
def test_starlette_span_is_the_server_span_and_a2a_execution_internal_beneath(transport: str) -> None:
    spans = ask_across_processes(transport, complete).spans

    assert len({s.trace_id for s in spans}) == 1
    server_side = [s for s in spans if s.service_name == "tech-agent-service"]
    assert any(s.scope_name == STARLETTE_SCOPE for s in server_side), "the starlette instrumentation is on"
    assert sum(s.kind == "SERVER" for s in server_side) == sum(map(is_request_span, server_side))
    calls = [s for s in spans if s.name == "invoke_agent tech_agent" and s.kind == "CLIENT"]
    assert len(calls) == 2
    for call in calls:
        requests = [s for s in children(call, spans) if s.service_name == "tech-agent-service"]
        assert [(s.scope_name, s.kind) for s in requests] == [(STARLETTE_SCOPE, "SERVER")] * 2  # card, message
        card, message = (only([s for s in children(r, spans) if s.name == "a2a-execution"]) for r in requests)
        assert (card.kind, message.kind) == ("INTERNAL", "INTERNAL")
        assert card.attributes["http.route"] == "/.well-known/agent-card.json"
        served = only([s for s in children(message, spans) if s.scope_name != STARLETTE_SCOPE])
        assert (served.name, served.kind) == ("invoke_agent tech_agent", "INTERNAL")
