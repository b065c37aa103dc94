"""AG2 1.x over AG-UI, in one process: the ``ag-ui-execution`` span of apps built before ``instrument()``.

The app is ``tests.v1.ag_ui_app``'s, served by uvicorn in a thread of its own (a fresh context: what the span
continues comes from the request's headers); the client is httpx with a ``traceparent`` of the test's choosing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import SpanKind, StatusCode

from tests.support.asgi_servers import free_socket, serve_app, url_of
from tests.support.fixtures import Traced
from tests.v1.a2a_support import children, only
from tests.v1.ag_ui_app import build_app
from tests.v1.ag_ui_support import CALLER_SPAN_ID, caller_trace, post_run, since_ag2_1_1
from tests.v1.helpers import patched

pytestmark = pytest.mark.timeout(60)


def instrument_with_ag_ui(traced: Traced) -> None:
    """AG2 instrumented, the AG-UI patch among what it put in place."""
    traced()
    assert patched("starlette.endpoints", "HTTPEndpoint.dispatch"), "the AG-UI patch applies"


@pytest.fixture
def base_url() -> Iterator[str]:
    """``tests.v1.ag_ui_app``'s app, built and serving before the test instruments anything."""
    sock = free_socket()
    with serve_app(build_app(), sock):
        yield url_of(sock)


def execution(spans: tuple[ReadableSpan, ...]) -> ReadableSpan:
    return only([s for s in spans if s.name == "ag-ui-execution"])


def test_an_app_built_before_instrument_continues_the_callers_trace(base_url: str, traced: Traced) -> None:
    instrument_with_ag_ui(traced)
    trace_id, traceparent = caller_trace()
    events = post_run(f"{base_url}weather", "r-1", [("traceparent", traceparent)])
    assert events[-1]["type"] == "RUN_FINISHED"

    spans = traced.spans()
    request = execution(spans)
    assert (request.kind, request.status.status_code) == (SpanKind.SERVER, StatusCode.UNSET)
    assert f"{request.context.trace_id:032x}" == trace_id
    assert request.parent is not None and request.parent.is_remote
    assert f"{request.parent.span_id:016x}" == CALLER_SPAN_ID
    (turn,) = children(request, spans)
    assert (turn.name, turn.kind) == ("invoke_agent weather_agent", SpanKind.INTERNAL)
    assert len(spans) == 5, [s.name for s in spans]
    assert {s.context.trace_id for s in spans} == {request.context.trace_id}


def test_no_span_after_uninstrument(base_url: str, traced: Traced) -> None:
    instrument_with_ag_ui(traced)
    traced.uninstrument()
    events = post_run(f"{base_url}weather", "r-1")
    assert events[-1]["type"] == "RUN_FINISHED"
    assert "ag-ui-execution" not in [s.name for s in traced.spans()]


def test_beneath_an_outer_server_span_it_is_internal(
    base_url: str, traced: Traced, tracer_provider: TracerProvider
) -> None:
    """As beneath starlette/asgi instrumentation: the outer span is the request's one SERVER span."""
    instrument_with_ag_ui(traced)
    outer_tracer = tracer_provider.get_tracer("outer-server")

    def outer_server_span(app: Any) -> Any:
        async def wrapped(scope: dict, receive: Any, send: Any) -> None:
            with outer_tracer.start_as_current_span("POST /weather", kind=SpanKind.SERVER):
                await app(scope, receive, send)

        return wrapped

    sock = free_socket()
    with serve_app(outer_server_span(build_app()), sock):
        events = post_run(f"{url_of(sock)}weather", "r-1")
    assert events[-1]["type"] == "RUN_FINISHED"

    spans = traced.spans()
    outer = only([s for s in spans if s.name == "POST /weather"])
    request = execution(spans)
    assert request.kind is SpanKind.INTERNAL
    assert request.parent is not None and request.parent.span_id == outer.context.span_id
    assert [s.kind for s in spans].count(SpanKind.SERVER) == 1


@since_ag2_1_1("fails the connection on a body that is not a run input, where later releases answer 400")
@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b'{"threadId": 1}'])
def test_a_body_that_is_no_run_input_gets_the_apps_own_answer(body: bytes, base_url: str, traced: Traced) -> None:
    with httpx.Client(timeout=30) as client:
        untraced = client.post(f"{base_url}weather", content=body)
        instrument_with_ag_ui(traced)
        answered = client.post(f"{base_url}weather", content=body)
    assert (answered.status_code, answered.content) == (untraced.status_code, untraced.content)

    request = execution(traced.spans())
    assert request.attributes["http.response.status_code"] == answered.status_code
    assert "ag_ui.run.id" not in request.attributes
