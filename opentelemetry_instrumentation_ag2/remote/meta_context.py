"""W3C trace context in a JSON-RPC message's ``params._meta`` map: the convention MCP and ACP share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import context, propagate, trace

META = "_meta"
TRACEPARENT = "traceparent"


def with_meta_context(params: Any) -> Any:
    """``params`` with the current W3C context added to its ``_meta`` (a copy). Unchanged when there is no current
    span context, when its ``_meta`` names a ``traceparent`` already, or when ``params`` or ``_meta`` is no map."""
    if params is not None and not isinstance(params, Mapping):
        return params
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if TRACEPARENT not in carrier:
        return params
    meta = (params or {}).get(META)
    if meta is None:
        meta = {}
    if not isinstance(meta, Mapping) or TRACEPARENT in meta:
        return params
    return {**(params or {}), META: {**meta, **carrier}}


def context_in_meta(message: Any) -> context.Context | None:
    """The context continuing the valid W3C context in a message's ``params._meta``; ``None`` when it has none."""
    params = message.get("params") if isinstance(message, Mapping) else None
    meta = params.get(META) if isinstance(params, Mapping) else None
    if not isinstance(meta, Mapping) or TRACEPARENT not in meta:
        return None
    carrier = {key: value for key, value in meta.items() if isinstance(key, str) and isinstance(value, str)}
    extracted = propagate.extract(carrier)
    return extracted if trace.get_current_span(extracted).get_span_context().is_valid else None
