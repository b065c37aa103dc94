"""opentelemetry-instrumentation-starlette's spans as the OTLP receiver gets them, for the tests that run it beside
ours."""

from __future__ import annotations

from tests.support.otlp_receiver import ReceivedSpan

STARLETTE_SCOPE = "opentelemetry.instrumentation.starlette"


def is_request_span(span: ReceivedSpan) -> bool:
    """Starlette's span of a whole request (not one of its ``http send`` / ``http receive`` events)."""
    return span.scope_name == STARLETTE_SCOPE and "asgi.event.type" not in span.attributes
