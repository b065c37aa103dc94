"""Span making: the one place that starts, annotates, fails and ends the instrumentor's spans.

Every patched AG2 callable goes through :meth:`TracingSession.traced`, which turns two small functions into a
wrapt wrapper: ``describe`` says which span a call makes (or ``None`` for none), ``finish`` reads the
call's result onto it. The same place records the operation's duration metric and routes message
content to span attributes and/or a log event, as the capture mode says. Telemetry failures are logged
at debug level and never reach the application; the application's own exceptions are recorded on the
span and re-raised unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from types import MappingProxyType
from typing import Any

from opentelemetry import context, trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.util.types import AttributeValue

from opentelemetry_instrumentation_ag2.ag2_own_tracing import current_ag2_span
from opentelemetry_instrumentation_ag2.attributes import AG2_SPAN_TYPE, ERROR_TYPE, GEN_AI_CONVERSATION_ID
from opentelemetry_instrumentation_ag2.config import Settings
from opentelemetry_instrumentation_ag2.encodable import encodable, encodable_attributes, span_name
from opentelemetry_instrumentation_ag2.errors import fq_exception_type, mark_failed, record_exception
from opentelemetry_instrumentation_ag2.genai_interop import conversation_id_key
from opentelemetry_instrumentation_ag2.signals import Measure, Signals

logger = logging.getLogger(__name__)

_CONVERSATION_ID = conversation_id_key() or context.create_key("ag2-conversation-id")
"""The conversation id beneath a conversation span: util-genai's own key where it has one, so that its
instrumentations' spans carry the same ``gen_ai.conversation.id``."""
_AGENT_TURN = context.create_key("ag2-agent-turn")
_CONVERSATION_SPAN = context.create_key("ag2-conversation-span")

STARTED_SPAN = object()
"""A ``SpanStart.context_values`` value standing for the span being started."""
NO_SPAN = trace.INVALID_SPAN
"""A ``SpanStart.adopt`` value: make no span at all, only set the context values and run ``finish``."""


class SpanStart:
    """What a wrapped call's span looks like when it starts.

    A plain class rather than a dataclass: every span of every turn makes one, so only what a describer gives is
    set on the instance; the rest are the class's defaults.
    """

    kind: SpanKind = SpanKind.INTERNAL
    conversation_id: str | None = None
    """Set to open a new conversation scope: children carry this ``gen_ai.conversation.id``."""
    agent: Any = None
    """Set on an agent's turn: work beneath it that knows no agent (code executors) is named after it."""
    call: Any = None
    """What ``finish`` needs to know of the call besides its result (e.g. the LLM client wrapper)."""
    context_values: Mapping[Any, Any] = MappingProxyType({})
    """Further values for the span's context (keys from ``opentelemetry.context.create_key``)."""
    parent: context.Context | None = None
    """The parent context when not the current one (e.g. extracted from a request's headers)."""
    expected: tuple[type[BaseException], ...] = ()
    """Exceptions that are AG2's control flow here, not failures: they pass through unrecorded."""
    measure: Measure | None = None
    """The duration histogram this operation records into."""
    event_name: str | None = None
    """The log event carrying this operation's content in the EVENT capture modes."""
    on_end: Callable[[ActiveSpan], None] | None = None
    """Called just before the span ends, success or failure (roll-ups)."""
    adopt: Span | None = None
    """A span someone else made of this very operation (AG2's own tracing): annotated, not started or ended
    by us; :data:`NO_SPAN` to make no span at all."""
    adoptable: bool = True
    """Whether AG2's own tracing may be making this operation's span, to adopt (else it is not looked for)."""

    def __init__(
        self,
        name: str,
        attributes: dict[str, AttributeValue] | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        **options: Any,
    ) -> None:
        self.name = name
        self.attributes = attributes if attributes is not None else {}
        self.kind = kind
        self.content: dict[str, AttributeValue] = {}
        """Message content known at the start; only filled when capture is on, routed by the capture mode."""
        if options:
            if not _OPTIONS.issuperset(options):
                raise TypeError(f"SpanStart got unknown options {sorted(set(options) - _OPTIONS)}")
            self.__dict__.update(options)


_OPTIONS = frozenset(name for name in SpanStart.__annotations__ if name != "kind")
"""The keywords ``SpanStart`` takes besides its name, attributes and kind."""


Describe = Callable[[Any, tuple, dict], "SpanStart | None"]
Finish = Callable[["ActiveSpan", Any], None]


def current_conversation_span() -> Span | None:
    """The innermost ``conversation`` span of the current context."""
    return context.get_value(_CONVERSATION_SPAN)  # type: ignore[return-value]


def current_agent() -> Any:
    """The agent whose turn the current context is in (reset by each new conversation)."""
    return context.get_value(_AGENT_TURN)


_reported_failures: set[str] = set()


def report_telemetry_failure(what: str) -> None:
    """Log a failure of the telemetry pipeline (e.g. a span processor that raises) once, not per span."""
    if what not in _reported_failures:
        _reported_failures.add(what)
        logger.warning("ag2 instrumentation: %s; the application goes on untouched", what, exc_info=True)
    else:
        logger.debug("ag2 instrumentation: %s", what, exc_info=True)


def end_span(span: Span) -> None:
    """End a span; what a span processor raises on ending it is logged, never passed to the application."""
    try:
        span.end()
    except Exception:
        report_telemetry_failure("a span processor failed to end a span")


def _add_missing(span: Span, attributes: dict[str, AttributeValue]) -> None:
    """Annotate an adopted span with the attributes its maker did not set (its own values stay)."""
    if not span.is_recording():
        return
    present = getattr(span, "attributes", None) or {}
    missing = {key: value for key, value in attributes.items() if key not in present}
    if missing:
        span.set_attributes(missing)


class ActiveSpan:
    """A started span made current; leaving it records any exception, metrics and events, and ends it.

    ``finish`` functions receive it: ``set_attribute`` also keeps the value for the metric points,
    ``set_content`` routes message content by the capture mode.
    """

    __slots__ = ("_context", "_start", "_started", "_telemetry", "_token", "attributes", "content", "span")

    def __init__(self, telemetry: TracingSession, start: SpanStart, current: context.Context) -> None:
        parent = start.parent if start.parent is not None and start.adopt is None else current
        conversation_id = start.conversation_id or parent.get(_CONVERSATION_ID)
        if conversation_id:
            start.attributes[GEN_AI_CONVERSATION_ID] = conversation_id
        start.attributes = encodable_attributes(start.attributes)
        self._telemetry = telemetry
        self._start = start
        self.attributes = start.attributes
        self.content: dict[str, AttributeValue] = {}
        span_attributes = start.attributes
        if start.content:
            captured = {key: encodable(value) for key, value in start.content.items() if value is not None}
            if telemetry.settings.content_on_spans:
                span_attributes = {**start.attributes, **captured}
            if telemetry.settings.content_in_events:
                self.content.update(captured)
        if start.adopt is None:
            self.span = telemetry.tracer.start_span(span_name(start.name), parent, start.kind, span_attributes)
            ctx = trace.set_span_in_context(self.span, parent)
        else:
            self.span, ctx = start.adopt, parent
            _add_missing(self.span, span_attributes)
        values = {}
        if start.context_values:
            values = {key: self.span if value is STARTED_SPAN else value for key, value in start.context_values.items()}
        if start.conversation_id:
            values.update({_CONVERSATION_ID: start.conversation_id, _CONVERSATION_SPAN: self.span, _AGENT_TURN: None})
        if start.agent is not None:
            values[_AGENT_TURN] = start.agent
        if values:  # one copy of the context for all of them
            ctx = context.Context({**ctx, **values})
        self._context = ctx
        self._started = time.perf_counter()
        self._token = context.attach(ctx)  # last: nothing after it may fail

    @property
    def adopted(self) -> bool:
        """Whether the span is someone else's (AG2's own tracing), which records what fails in it itself."""
        return self._start.adopt is not None

    @property
    def call(self) -> Any:
        """What ``describe`` handed on about the call (``SpanStart.call``)."""
        return self._start.call

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Set a span attribute (kept for the operation's metric points too)."""
        value = encodable(value)
        self.attributes[key] = value
        self.span.set_attribute(key, value)

    def set_attributes(self, attributes: dict[str, AttributeValue]) -> None:
        """Set several span attributes at once (one lock on the SDK span)."""
        attributes = encodable_attributes(attributes)
        self.attributes.update(attributes)
        self.span.set_attributes(attributes)

    def rename(self, name: str) -> None:
        """Rename the span (e.g. when the call turns out to be another model's)."""
        self.span.update_name(span_name(name))

    def set_content(self, key: str, value: AttributeValue | None) -> None:
        """Message content: onto the span and/or into the operation's event, as the capture mode says
        (``None``, content that could not be serialised, is left out)."""
        if value is None:
            return
        value = encodable(value)
        settings = self._telemetry.settings
        if settings.content_on_spans:
            self.span.set_attribute(key, value)
        if settings.content_in_events:
            self.content[key] = value

    def fail(self, error_type: str, description: str | None = None) -> None:
        """Mark the operation failed without an exception."""
        self.attributes[ERROR_TYPE] = error_type
        mark_failed(self.span, error_type, description)

    def fail_with(self, exc: BaseException) -> None:
        """Mark the operation failed by an exception AG2 caught and turned into a value (a tool's)."""
        self.attributes[ERROR_TYPE] = fq_exception_type(exc)
        record_exception(self.span, exc)

    def finish(self, finish: Finish, result: Any) -> None:
        """Read the wrapped call's result onto the span; a failure here is telemetry's, not the app's."""
        try:
            finish(self, result)
        except Exception:  # telemetry must never break the application
            logger.debug("ag2 instrumentation failed to read a result onto %s", self.span, exc_info=True)

    def __enter__(self) -> ActiveSpan:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        try:
            start = self._start
            if exc is not None and not isinstance(exc, start.expected):
                self.attributes[ERROR_TYPE] = fq_exception_type(exc)
                if start.adopt is None:
                    record_exception(self.span, exc)
                else:  # its maker records the exception as it leaves; the type is ours to add
                    self.span.set_attribute(ERROR_TYPE, self.attributes[ERROR_TYPE])
            if start.on_end is not None:
                start.on_end(self)
            signals = self._telemetry.signals
            if start.measure is not None:
                signals.record_duration(start.measure, time.perf_counter() - self._started, self.attributes)
            if self.content and start.event_name:
                signals.emit(start.event_name, {**self.attributes, **self.content}, self._context)
        except Exception:
            logger.debug("ag2 instrumentation failed to complete a span", exc_info=True)
        finally:
            context.detach(self._token)
            if self._start.adopt is None:
                end_span(self.span)


class TracingSession:
    """One ``instrument()`` call's tracing: its tracer, signals and settings, and the span making every wrapper
    of that call shares; ``uninstrument()`` disables it."""

    def __init__(self, tracer: Tracer, signals: Signals, settings: Settings) -> None:
        self.tracer = tracer
        self.signals = signals
        self.settings = settings
        self.capture_content = settings.content_on_spans or settings.content_in_events
        """Whether any content is wanted: describe/finish compute it only then."""
        self.enabled = True
        """False after ``uninstrument()``: wrappers left on objects built meanwhile then make no spans."""

    def begin(self, describe: Describe, instance: Any, args: tuple, kwargs: dict) -> ActiveSpan | None:
        """Start the span ``describe`` asks for, or ``None`` when suppressed, declined, duplicate or broken."""
        if not self.enabled or not is_instrumentation_enabled():
            return None
        current = context.get_current()
        try:
            start = describe(instance, args, kwargs)
            if start is None:
                return None
            if start.adopt is None and start.adoptable:
                start.adopt = current_ag2_span(start.attributes.get(AG2_SPAN_TYPE))
            return ActiveSpan(self, start, current)
        except Exception:
            report_telemetry_failure("failed to start a span")
            return None

    def span(self, describe: Describe, instance: Any, args: tuple, kwargs: dict) -> AbstractContextManager:
        """``begin`` as a context manager yielding the :class:`ActiveSpan`, or ``None`` when no span is made."""
        return self.begin(describe, instance, args, kwargs) or nullcontext()

    def traced(self, describe: Describe, finish: Finish | None = None, *, is_async: bool = False) -> Callable:
        """A wrapt wrapper making the span ``describe`` describes around each call."""
        begin = self.begin

        def sync_wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
            active = begin(describe, instance, args, kwargs)
            if active is None:
                return wrapped(*args, **kwargs)
            with active:
                result = wrapped(*args, **kwargs)
                if finish is not None:
                    active.finish(finish, result)
                return result

        async def async_wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
            active = begin(describe, instance, args, kwargs)
            if active is None:
                return await wrapped(*args, **kwargs)
            with active:
                result = await wrapped(*args, **kwargs)
                if finish is not None:
                    active.finish(finish, result)
                return result

        return async_wrapper if is_async else sync_wrapper
