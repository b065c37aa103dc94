"""The server side of AG-UI in AG2 1.x: an ``ag-ui-execution`` span per HTTP request, the served turn beneath.

``AGUIStream.build_asgi()`` returns a Starlette ``HTTPEndpoint`` subclass, built per stream (POST runs the
agent and streams its events as server-sent events, GET says what it can do). Every request to one passes
``HTTPEndpoint.dispatch``, inherited from Starlette's class, so that is the one class-level patch: it applies to
endpoints built before ``instrument()`` and however they are mounted (``Route``, ``Mount``, a bare ASGI app);
other endpoints pass through untouched.

The span continues the caller's W3C context from the request's headers (global propagator), or starts a new
trace for a request that carries none or a malformed one; it is INTERNAL beneath an outer server span of this
request (starlette/asgi instrumentation). It covers the whole response, however many events stream through it:
the turn AG2 starts for the run copies this context, so its ``invoke_agent`` (and everything beneath) is the
span's child. A run that ends on ``RUN_ERROR`` marks the span failed, although the response says 200.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from opentelemetry_instrumentation_ag2.encodable import encodable_text
from opentelemetry_instrumentation_ag2.patching import Patch
from opentelemetry_instrumentation_ag2.remote.http_exchange import observed
from opentelemetry_instrumentation_ag2.remote.server_span import http_server_attributes, server_span_placement
from opentelemetry_instrumentation_ag2.spans import SpanStart, TracingSession

AG_UI_ASGI_MODULE = "ag2.ag_ui.asgi"
"""Where AG2 builds its AG-UI endpoints; patched once the application imports it (``build_asgi`` does)."""
AG_UI_EXECUTION_SPAN = "ag-ui-execution"
AG_UI_THREAD_ID = "ag_ui.thread.id"
AG_UI_RUN_ID = "ag_ui.run.id"
RUN_ERROR = "RUN_ERROR"
_RUN_ERROR_EVENT = b'data: {"type":"RUN_ERROR"'
"""How AG-UI's encoder starts a ``RUN_ERROR`` server-sent event (one event per body message)."""


def serves_ag_ui(endpoint: Any) -> bool:
    """Whether a Starlette endpoint instance is one AG2's ``build_asgi`` made."""
    return type(endpoint).__module__ == AG_UI_ASGI_MODULE


def run_ids(body: bytes) -> dict[str, str]:
    """The AG-UI thread and run ids of a ``RunAgentInput`` body, of those it has (none for a body that is not one)."""
    try:
        run_input = json.loads(body.decode())  # as text: no encoding to detect
    except (ValueError, RecursionError):
        return {}
    if not isinstance(run_input, dict):
        return {}
    found = ((AG_UI_THREAD_ID, run_input.get("threadId")), (AG_UI_RUN_ID, run_input.get("runId")))
    return {key: encodable_text(value) for key, value in found if isinstance(value, str) and value}


class AgUiRequests:
    """The ``ag-ui-execution`` span of every request to an AG2 AG-UI endpoint (wrapper of ``HTTPEndpoint.dispatch``)."""

    def __init__(self, telemetry: TracingSession) -> None:
        self.telemetry = telemetry

    @staticmethod
    def describe(endpoint: Any, args: tuple, kwargs: dict) -> SpanStart:
        scope = endpoint.scope
        parent, kind = server_span_placement(scope.get("headers") or ())
        route = getattr(scope.get("route"), "path", None)  # the route Starlette matched
        return SpanStart(AG_UI_EXECUTION_SPAN, http_server_attributes(scope, route), kind, parent=parent)

    async def __call__(self, wrapped: Callable, endpoint: Any, args: tuple, kwargs: dict) -> Any:
        if not serves_ag_ui(endpoint) or getattr(endpoint, "scope", {}).get("type") != "http":
            return await wrapped(*args, **kwargs)
        active = self.telemetry.begin(self.describe, endpoint, args, kwargs)
        if active is None:
            return await wrapped(*args, **kwargs)
        span = active.span
        receive, send = endpoint.receive, endpoint.send
        endpoint.receive, endpoint.send = observed(
            span, receive, send, lambda body: span.set_attributes(run_ids(body)), (_RUN_ERROR_EVENT, RUN_ERROR)
        )
        try:
            with active:
                return await wrapped(*args, **kwargs)
        finally:
            endpoint.receive, endpoint.send = receive, send


def ag_ui_patches(telemetry: TracingSession) -> list[Patch]:
    """The AG-UI server patch (Starlette's ``HTTPEndpoint.dispatch``, acting only on AG2's AG-UI endpoints)."""
    return [Patch("starlette.endpoints", "HTTPEndpoint.dispatch", AgUiRequests(telemetry))]
