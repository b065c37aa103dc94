"""Coexistence with AG2 1.x's own opt-in tracing (``ag2.middleware.TelemetryMiddleware``): one span per operation.

AG2's middleware makes its spans inside the chain, around ours (ours is innermost), so when its span of an
operation is current ours adopts it (``SpanStart.adopt``, see ``ag2_own_tracing.current_ag2_span``): the span is AG2's,
and ours adds what AG2's lacks (``gen_ai.conversation.id``, the agent's name on model
calls, tool descriptions, the turn's token totals, ``error.type``) and records its metrics and events.

A turn AG2's middleware traces cannot have its span wrapped around the whole chain as ours usually is (AG2's
``invoke_agent`` starts inside it): :func:`traced_by_ag2_middleware` tells :mod:`.turns` to make the turn's span
at our middleware's ``on_turn`` instead, where AG2's is current and is adopted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry_instrumentation_ag2.ag2_own_tracing import is_telemetry_middleware


def traced_by_ag2_middleware(agent: Any, kwargs: dict) -> bool:
    """Whether AG2's ``TelemetryMiddleware`` is among the middleware of the turn ``Agent._turn_scope`` opens."""
    plugins = kwargs.get("additional_plugins") or ()
    factories: Iterable[Any] = (
        *(getattr(agent, "_middleware", None) or ()),
        *(kwargs.get("additional_middleware") or ()),
        *(m for plugin in plugins for m in (getattr(plugin, "_middleware", None) or ())),
    )
    return any(map(is_telemetry_middleware, factories))
