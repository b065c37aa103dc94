"""Coexistence with AG2's own opt-in tracing (``ag2.middleware.TelemetryMiddleware``).

Our spans are made by a middleware injected innermost in every turn, so any ``TelemetryMiddleware`` the
user added runs outside it: when its span for the same operation is current, that operation is already
traced, and ours steps aside. One span per operation, whichever order the middleware were listed in.
"""

from __future__ import annotations

from opentelemetry import trace

from opentelemetry_instrumentation_ag2.attributes import GEN_AI_OPERATION_NAME
from opentelemetry_instrumentation_ag2.spans import AG2_OWN_TRACING_SCOPE


def traced_by_ag2(operation: str) -> bool:
    """Whether the current span is AG2's own span of this ``gen_ai.operation.name``."""
    current = trace.get_current_span()
    scope = getattr(current, "instrumentation_scope", None)
    if getattr(scope, "name", None) != AG2_OWN_TRACING_SCOPE:
        return False
    attributes = getattr(current, "attributes", None) or {}
    return attributes.get(GEN_AI_OPERATION_NAME) == operation
