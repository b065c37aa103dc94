"""How both lines recognise AG2's own opt-in tracing: its wrappers, its middleware, its spans, whether it is loaded.

The classic line's ``autogen.opentelemetry`` helpers mark each wrapper they make ``__otel_wrapped__``; AG2 1.x's
``ag2.middleware.TelemetryMiddleware`` traces a turn from inside its middleware chain; both make their spans
under one instrumentation scope, with an ``ag2.span.type`` saying which operation a span is.
"""

from __future__ import annotations

import sys
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span

from opentelemetry_instrumentation_ag2.attributes import AG2_SPAN_TYPE

AG2_OWN_TRACING_SCOPE = "opentelemetry.instrumentation.ag2"
"""The instrumentation scope of AG2's own spans, on both lines."""
CLASSIC_MODULE = "autogen.opentelemetry"
V1_MODULE = "ag2.middleware.builtin.telemetry"
TELEMETRY_MIDDLEWARE = ("ag2.middleware", "TelemetryMiddleware")
"""Where AG2 1.x's tracing middleware factory is defined, and its class name."""


def loaded() -> bool:
    """Whether either line's own tracing is imported (until it is, it cannot be on)."""
    return CLASSIC_MODULE in sys.modules or V1_MODULE in sys.modules


def is_ag2_own_wrapper(value: Any) -> bool:
    """Whether ``value`` is a wrapper the classic line's ``autogen.opentelemetry`` made."""
    return getattr(value, "__otel_wrapped__", False) is True


def is_telemetry_middleware(factory: Any) -> bool:
    """Whether a 1.x middleware factory is AG2's own ``TelemetryMiddleware``."""
    kind = type(factory)
    return kind.__name__ == TELEMETRY_MIDDLEWARE[1] and kind.__module__.startswith(TELEMETRY_MIDDLEWARE[0])


def current_ag2_span(span_type: Any) -> Span | None:
    """The current span when it is AG2's own span of an operation of this ``ag2.span.type``."""
    if span_type is None or not loaded():
        return None
    current = trace.get_current_span()
    if getattr(getattr(current, "instrumentation_scope", None), "name", None) != AG2_OWN_TRACING_SCOPE:
        return None
    return current if (getattr(current, "attributes", None) or {}).get(AG2_SPAN_TYPE) == span_type else None
