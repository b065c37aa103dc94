"""Coexistence with AG2 1.x's own opt-in tracing (``ag2.middleware.TelemetryMiddleware``): one span per operation.

AG2's middleware makes its spans inside the chain, around ours (ours is innermost), so when its span of an
operation is current ours adopts it (``SpanStart.adopt``, see ``spans.ag2_own_span_of``): the span is AG2's,
and ours adds what AG2's lacks (``gen_ai.conversation.id``, the agent's name on model
calls, tool descriptions, the turn's token totals, ``error.type``) and records its metrics and events.

A turn AG2's middleware traces cannot have its span wrapped around the whole chain as ours usually is (AG2's
``invoke_agent`` starts inside it): :func:`traced_by_ag2_middleware` tells :mod:`.turns` to make the turn's span
at our middleware's ``on_turn`` instead, where AG2's is current and is adopted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

AG2_TELEMETRY_MIDDLEWARE = ("ag2.middleware", "TelemetryMiddleware")
"""Where AG2's own tracing middleware factory is defined, and its class name."""


def _is_ag2_telemetry(factory: Any) -> bool:
    kind = type(factory)
    return kind.__name__ == AG2_TELEMETRY_MIDDLEWARE[1] and kind.__module__.startswith(AG2_TELEMETRY_MIDDLEWARE[0])


def traced_by_ag2_middleware(agent: Any, kwargs: dict) -> bool:
    """Whether AG2's ``TelemetryMiddleware`` is among the middleware of the turn ``Agent._turn_scope`` opens."""
    plugins = kwargs.get("additional_plugins") or ()
    factories: Iterable[Any] = (
        *(getattr(agent, "_middleware", None) or ()),
        *(kwargs.get("additional_middleware") or ()),
        *(m for plugin in plugins for m in (getattr(plugin, "_middleware", None) or ())),
    )
    return any(map(_is_ag2_telemetry, factories))
