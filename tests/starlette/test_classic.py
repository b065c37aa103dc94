"""One SERVER span per request with opentelemetry-instrumentation-starlette also installed (classic line).

``examples/server.py`` and ``examples/client.py`` each run under ``opentelemetry-instrument``, exporting
OTLP to an in-test receiver; on the server only httpx instrumentation is disabled, so the starlette instrumentor
traces every request too. Each request the server handled must still have exactly one SERVER span.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import pytest

from tests.support.otlp_receiver import ReceivedSpan, TraceReceiver, at_least, render_trace
from tests.support.processes import CLIENT_SERVICE, SERVER_SERVICE, instrumented_example, server_and_client
from tests.support.starlette_spans import STARLETTE_SCOPE, is_request_span

pytestmark = pytest.mark.timeout(180)

# the scripted stand-in for the model is a Starlette app in the server process: its requests are not the A2A
# server's, and with httpx untraced they would start traces of their own, so starlette leaves them out
MODEL_ROUTE = "chat/completions"


class Served(NamedTuple):
    """What the receiver got from one client run against one server, and what the server's environment sets
    beyond the one every process of the test gets."""

    spans: list[ReceivedSpan]
    server_env: dict[str, str]

    def tree(self) -> str:
        return render_trace(self.spans, attributes=("http.request.method", "http.route"))


def complete(spans: list[ReceivedSpan]) -> bool:
    """Both remote turns served, and the card fetch and both POSTs seen by both instrumentations."""
    served = at_least({"conversation user_proxy": 1, "conversation tech_agent": 2, "a2a-execution": 3})
    return served(spans) and sum(map(is_request_span, spans)) >= 3


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with TraceReceiver(host="127.0.0.1", grpc_port=0, http_port=0) as receiver:
        server_env = {
            "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "httpx",
            "OTEL_PYTHON_STARLETTE_EXCLUDED_URLS": MODEL_ROUTE,
        }
        server = instrumented_example("server.py", "--port", "0")
        server_and_client(
            receiver, server, lambda url: instrumented_example("client.py", url), complete, server_env=server_env
        )
        # the server has exited (flushing its spans at shutdown): this is all it will ever send
        yield Served(receiver.spans, server_env)


def by_id(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    return {s.span_id: s for s in spans}


def children(span: ReceivedSpan, spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    return sorted((s for s in spans if s.parent_span_id == span.span_id), key=lambda s: s.start_ns)


def subtree(root: ReceivedSpan, spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    """``root`` and every span beneath it."""
    found, frontier = [root], [root]
    while frontier:
        below = [child for span in frontier for child in children(span, spans)]
        found += below
        frontier = below
    return found


def requests(spans: list[ReceivedSpan]) -> list[tuple[ReceivedSpan, list[ReceivedSpan]]]:
    """Each request the server handled: the client span it came from, and the server's spans of it."""
    ids = by_id(spans)
    roots = [
        s
        for s in spans
        if s.service_name == SERVER_SERVICE
        and s.parent_span_id in ids
        and ids[s.parent_span_id].service_name != SERVER_SERVICE
    ]
    return [(ids[root.parent_span_id], subtree(root, spans)) for root in sorted(roots, key=lambda s: s.start_ns)]


def only(found: list[ReceivedSpan]) -> ReceivedSpan:
    assert len(found) == 1, [(s.name, s.kind) for s in found]
    return found[0]


def served_chain(execution: ReceivedSpan, request: list[ReceivedSpan]) -> None:
    """``conversation tech_agent → invoke_agent tech_agent → chat`` beneath ``execution``."""
    served = only([s for s in subtree(execution, request) if s.name == "conversation tech_agent"])
    turn = only(children(served, request))
    assert (turn.name, turn.kind) == ("invoke_agent tech_agent", "INTERNAL")
    llm_call = only(children(turn, request))
    assert (llm_call.name, llm_call.kind) == ("chat gpt-4o-mini", "CLIENT")


def test_the_starlette_instrumentation_is_on(served: Served):
    assert served.server_env["OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"] == "httpx"
    assert any(s.scope_name == STARLETTE_SCOPE and s.service_name == SERVER_SERVICE for s in served.spans)


def test_one_trace_and_one_server_span_per_request(served: Served):
    spans = served.spans
    assert len({s.trace_id for s in spans}) == 1, served.tree()
    root = only([s for s in spans if s.parent_span_id is None])
    assert (root.name, root.service_name) == ("conversation user_proxy", CLIENT_SERVICE)

    handled = requests(spans)
    assert [only([s for s in request if is_request_span(s)]).name for _, request in handled] == [
        "GET /.well-known/agent-card.json",
        "POST /",
        "POST /",
    ], served.tree()
    assert sum(len(request) for _, request in handled) == sum(s.service_name == SERVER_SERVICE for s in spans)
    for caller, request in handled:
        assert (caller.name, caller.kind, caller.service_name) == ("invoke_agent tech_agent", "CLIENT", CLIENT_SERVICE)
        server_span = only([s for s in request if s.kind == "SERVER"])
        assert server_span.parent_span_id == caller.span_id, served.tree()


def test_starlette_span_is_the_server_span_and_a2a_execution_internal_beneath(served: Served):
    for caller, request in requests(served.spans):
        server_span = only([s for s in request if s.kind == "SERVER"])
        assert (server_span.scope_name, server_span.parent_span_id) == (STARLETTE_SCOPE, caller.span_id)
        execution = only([s for s in request if s.name == "a2a-execution"])
        assert execution.kind == "INTERNAL"
        assert execution in subtree(server_span, request), served.tree()
        if execution.attributes["http.request.method"] == "POST":
            served_chain(execution, request)
        else:  # the card fetch: nothing beneath but starlette's send events
            beneath = [s for s in subtree(execution, request) if s is not execution]
            assert beneath and all(s.scope_name == STARLETTE_SCOPE for s in beneath), served.tree()
