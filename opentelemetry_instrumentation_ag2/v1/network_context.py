"""Carrying the trace between an AG2 1.x hub and its participants, so a reply continues the run's trace.

Toward the participant the hub already carries it: an envelope's ``trace_id`` is the W3C traceparent of its
span. The participant's handler runs under it (:func:`handle_under_envelope`), so the turn, its tools and the
reply it posts afterwards all belong to the envelope that caused them. Toward the hub nothing travels, in
process or over the wire: in process the hub's ``post_envelope`` is called under the handler's context and
needs nothing more; over the WebSocket transport the participant adds the context as one extra key of the
``post_envelope`` request's ``params`` (:func:`send_with_trace_context`), which an unpatched hub ignores and
a patched one removes and runs the request under (:func:`run_request_in_trace_context`). Frames and envelopes
themselves are never changed: peers decode them with ``cls(**data)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from opentelemetry_instrumentation_ag2.patching import run_in
from opentelemetry_instrumentation_ag2.spans import TracingSession

logger = logging.getLogger(__name__)

TRACE_CONTEXT_PARAM = "ag2.otel.trace_context"
"""The extra ``RequestFrame.params`` key carrying the poster's trace context (a propagator carrier)."""
TRACED_REQUESTS = frozenset({"post_envelope"})
"""The request ops the hub makes envelope spans for."""

_W3C = TraceContextTextMapPropagator()


def envelope_context(envelope: Any) -> context.Context | None:
    """The current context with the envelope's span as parent, when the hub traced the envelope."""
    traceparent = getattr(envelope, "trace_id", None)
    if not isinstance(traceparent, str) or not traceparent:
        return None
    span = trace.get_current_span(_W3C.extract({"traceparent": traceparent}))
    return trace.set_span_in_context(span) if span.get_span_context().is_valid else None


def handle_under_envelope(telemetry: TracingSession) -> Callable:
    """The wrapt wrapper of ``AgentClient.receive(envelope)``: its handler runs under the envelope's span."""

    async def wrapper(wrapped: Callable, client: Any, args: tuple, kwargs: dict) -> Any:
        parent = None
        if telemetry.enabled and is_instrumentation_enabled():
            parent = envelope_context(args[0] if args else kwargs.get("envelope"))
        return await run_in(parent, wrapped, args, kwargs)

    return wrapper


def send_with_trace_context(telemetry: TracingSession) -> Callable:
    """The wrapt wrapper of ``HubClient._rpc(op, params)``: a traced request carries the current context."""

    async def wrapper(wrapped: Callable, client: Any, args: tuple, kwargs: dict) -> Any:
        if (
            len(args) == 2
            and args[0] in TRACED_REQUESTS
            and isinstance(args[1], dict)
            and telemetry.enabled
            and is_instrumentation_enabled()
            and trace.get_current_span().get_span_context().is_valid
        ):
            carrier: dict[str, str] = {}
            try:
                propagate.inject(carrier)
            except Exception:  # a broken propagator must not fail the request
                logger.debug("ag2 instrumentation failed to inject a trace context", exc_info=True)
            if carrier:
                args = (args[0], {**args[1], TRACE_CONTEXT_PARAM: carrier})
        return await wrapped(*args, **kwargs)

    return wrapper


def run_request_in_trace_context(telemetry: TracingSession) -> Callable:
    """The wrapt wrapper of ``Hub._handle_request(endpoint, frame)``: runs a request under the context it carries.

    The key is removed first, so the hub's own code sees exactly what an unpatched participant sends.
    """

    async def wrapper(wrapped: Callable, hub: Any, args: tuple, kwargs: dict) -> Any:
        frame = args[1] if len(args) > 1 else kwargs.get("frame")
        params = getattr(frame, "params", None)
        carrier = params.pop(TRACE_CONTEXT_PARAM, None) if isinstance(params, dict) else None
        parent = None
        if isinstance(carrier, dict) and telemetry.enabled and is_instrumentation_enabled():
            try:
                parent = propagate.extract({str(k): str(v) for k, v in carrier.items()})
            except Exception:  # a broken propagator must not fail the request
                logger.debug("ag2 instrumentation failed to extract a trace context", exc_info=True)
        return await run_in(parent, wrapped, args, kwargs)

    return wrapper
