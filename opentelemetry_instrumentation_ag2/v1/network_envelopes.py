"""``network.envelope`` spans of an AG2 1.x ``Hub``: one trace per run, whoever's tracer makes them.

AG2's hub traces an envelope only when opened with ``tracer_provider=``: it then holds an ``EnvelopeTracer``
(``ag2/network/hub/_envelope_tracing.py``) that starts a span per substantive envelope, writes the span's
W3C traceparent into ``envelope.trace_id`` (which reaches the recipients' turns as
``context.dependencies["ag2.otel.traceparent"]``), and ends it after dispatch. :class:`EnvelopeSpans` is a
drop-in for that tracer with two differences: the span is a child of the context that posts the envelope
(AG2 starts every one as a new root, linked to that context), so one run is one trace; and nothing is
mirrored to the hub's store (the application asked for no ``/telemetry/spans.jsonl``).

A hub opened with ``tracer_provider=`` keeps AG2's tracer (its scope, its store mirror), whose tracer is
wrapped in :class:`PostingContextTracer`: the same envelope spans, each continuing the context that posts it.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import INVALID_SPAN, Link, Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from opentelemetry_instrumentation_ag2.attributes import AG2_SPAN_TYPE
from opentelemetry_instrumentation_ag2.encodable import encodable_attributes, span_name
from opentelemetry_instrumentation_ag2.errors import mark_failed, record_exception
from opentelemetry_instrumentation_ag2.spans import TracingSession, end_span, report_telemetry_failure

logger = logging.getLogger(__name__)

HUB_TRACER_ATTRIBUTE = "_envelope_tracer"
"""Where ``Hub.__init__`` keeps its envelope tracer (``None`` when opened without a tracer provider)."""
AG2_TRACER_ATTRIBUTE = "_tracer"
"""Where AG2's ``EnvelopeTracer`` keeps the OpenTelemetry tracer it starts envelope spans with."""

SPAN_TYPE_ENVELOPE = "envelope"
NET_CHANNEL_ID = "ag2.network.channel_id"
NET_MANIFEST_TYPE = "ag2.network.manifest_type"
NET_SENDER_ID = "ag2.network.sender_id"
NET_SENDER_NAME = "ag2.network.sender_name"
NET_EVENT_TYPE = "ag2.network.event_type"
NET_ENVELOPE_ID = "ag2.network.envelope_id"
NET_CAUSATION_ID = "ag2.network.causation_id"
NET_AUDIENCE = "ag2.network.audience"
NET_DISPATCH_FAILURES = "ag2.network.dispatch_failures"
LINK_KIND = "ag2.link.kind"
LINK_IN_CHANNEL = "in_channel"
"""AG2's names (``ag2._telemetry_consts``) for the same attributes and links, so its readers read ours."""

_W3C = TraceContextTextMapPropagator()


def envelope_attributes(envelope: Any, hub: Any) -> dict[str, Any]:
    """AG2's envelope span attributes, plus the channel kind and the sender's name when the hub knows them."""
    attributes: dict[str, Any] = {
        AG2_SPAN_TYPE: SPAN_TYPE_ENVELOPE,
        NET_CHANNEL_ID: envelope.channel_id,
        NET_SENDER_ID: envelope.sender_id,
        NET_EVENT_TYPE: envelope.event_type,
    }
    if envelope.envelope_id:
        attributes[NET_ENVELOPE_ID] = envelope.envelope_id
    if envelope.causation_id:
        attributes[NET_CAUSATION_ID] = envelope.causation_id
    if envelope.audience is not None:
        attributes[NET_AUDIENCE] = list(envelope.audience)
    if hub is not None:
        try:
            attributes[NET_MANIFEST_TYPE] = hub.adapter_for(envelope.channel_id).manifest.type
            name = hub.name_for(envelope.sender_id, default=None)
            if isinstance(name, str):
                attributes[NET_SENDER_NAME] = name
        except Exception:  # an unknown channel or sender: the hub rejects the envelope itself
            logger.debug("ag2 instrumentation: no channel kind or sender name for an envelope", exc_info=True)
    return attributes


class EnvelopeSpans:
    """The hub's envelope tracer, made of our tracer (the interface of AG2's ``EnvelopeTracer``)."""

    bytes_written = 0
    """Bytes mirrored to the hub's store: none."""

    def __init__(self, telemetry: TracingSession, hub: Any) -> None:
        self._telemetry = telemetry
        self._hub = weakref.ref(hub)

    def start_envelope_span(self, envelope: Any, *, channel_span_context: Any = None) -> Span:
        """Start (not enter) the envelope's span under the posting context; a non-recording span when off."""
        telemetry = self._telemetry
        if not telemetry.enabled or not is_instrumentation_enabled():
            return INVALID_SPAN
        try:
            links = []
            if channel_span_context is not None and channel_span_context.is_valid:
                links.append(Link(channel_span_context, {LINK_KIND: LINK_IN_CHANNEL}))
            return telemetry.tracer.start_span(
                span_name(f"network.envelope {envelope.event_type}"),
                kind=SpanKind.PRODUCER,
                attributes=encodable_attributes(envelope_attributes(envelope, self._hub())),
                links=links,
            )
        except Exception:
            report_telemetry_failure("failed to start an envelope span")
            return INVALID_SPAN

    def inject_traceparent(self, envelope: Any, span: Span) -> None:
        """Write the span's W3C traceparent into ``envelope.trace_id`` (the hub persists and relays it)."""
        if not span.get_span_context().is_valid:
            return
        carrier: dict[str, str] = {}
        _W3C.inject(carrier, trace.set_span_in_context(span))
        if "traceparent" in carrier:
            envelope.trace_id = carrier["traceparent"]

    async def finish_envelope_span(
        self, span: Span, *, dispatch_failures: int = 0, error: BaseException | None = None
    ) -> None:
        """End the span, failed when dispatch raised or some recipients could not be reached."""
        if not span.is_recording():
            return
        try:
            if dispatch_failures:
                span.set_attribute(NET_DISPATCH_FAILURES, dispatch_failures)
            if error is not None:
                record_exception(span, error)
            elif dispatch_failures:
                mark_failed(span, "DispatchFailure", f"{dispatch_failures} dispatch failure(s)")
        except Exception:
            logger.debug("ag2 instrumentation failed to annotate an envelope span", exc_info=True)
        end_span(span)

    def use_span(self, span: Span) -> Any:
        """Make ``span`` current without ending it on exit (as AG2's tracer offers)."""
        return trace.use_span(span, end_on_exit=False)


class PostingContextTracer:
    """AG2's envelope tracer's own tracer, whose envelope spans continue the context that posts them.

    AG2 starts each envelope span in an empty ``Context()`` (a new trace per envelope, linked to its cause);
    while instrumented, such a span is started in the current context instead, so one run is one trace.
    """

    def __init__(self, telemetry: TracingSession, tracer: Any) -> None:
        self._telemetry = telemetry
        self._tracer = tracer

    def start_span(self, name: str, context: Any = None, *args: Any, **kwargs: Any) -> Span:
        telemetry = self._telemetry
        if context is not None and telemetry.enabled and is_instrumentation_enabled():
            try:
                if not trace.get_current_span(context).get_span_context().is_valid:
                    context = None  # the posting context
            except Exception:
                logger.debug("ag2 instrumentation: an envelope span keeps AG2's context", exc_info=True)
        return self._tracer.start_span(name, context, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tracer, name)


def _continue_posting_context(telemetry: TracingSession, ag2_tracer: Any) -> None:
    """Wrap the tracer of AG2's envelope tracer in :class:`PostingContextTracer` (once)."""
    tracer = getattr(ag2_tracer, AG2_TRACER_ATTRIBUTE, None)
    if callable(getattr(tracer, "start_span", None)) and not isinstance(tracer, PostingContextTracer):
        setattr(ag2_tracer, AG2_TRACER_ATTRIBUTE, PostingContextTracer(telemetry, tracer))


def fits(ag2_tracer_class: type) -> bool:
    """Whether :class:`EnvelopeSpans` offers every public member of this AG2 release's ``EnvelopeTracer``.

    A later release that calls more of its tracer keeps its hub untraced rather than broken.
    """
    wanted = {name for name in dir(ag2_tracer_class) if not name.startswith("_")}
    return wanted <= {name for name in dir(EnvelopeSpans) if not name.startswith("_")}


def trace_untraced_hubs(telemetry: TracingSession) -> Callable:
    """The wrapt wrapper of ``Hub.__init__``: a hub given no tracer provider gets :class:`EnvelopeSpans`.

    A hub given one keeps AG2's own tracer (the application's choice), so no envelope is traced twice; its
    envelope spans continue the posting context (:class:`PostingContextTracer`).
    """

    def wrapper(wrapped: Callable, hub: Any, args: tuple, kwargs: dict) -> None:
        wrapped(*args, **kwargs)
        if not telemetry.enabled or not is_instrumentation_enabled():
            return
        try:
            ag2_tracer = getattr(hub, HUB_TRACER_ATTRIBUTE, False)
            if ag2_tracer is None:
                setattr(hub, HUB_TRACER_ATTRIBUTE, EnvelopeSpans(telemetry, hub))
            elif ag2_tracer is not False:
                _continue_posting_context(telemetry, ag2_tracer)
        except Exception:  # telemetry must never break the application
            logger.debug("ag2 instrumentation failed to trace a hub", exc_info=True)

    return wrapper
