"""Recording failures on spans: ``error.type``, ERROR status and the ``exception`` event.

An application's exception is recorded whatever it is made of: one whose ``__str__`` raises still gives its
type, status and stack (its message reads ``<unprintable ...>``), and its text is made encodable. Recording
never raises into the application for the exception's sake.
"""

from __future__ import annotations

import traceback

from opentelemetry.trace import Span, Status, StatusCode

from opentelemetry_instrumentation_ag2.attributes import ERROR_TYPE
from opentelemetry_instrumentation_ag2.encodable import encodable_text

EXCEPTION_EVENT = "exception"
EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"


def _fq_exception_type(exception: BaseException) -> str:
    kind = type(exception)
    module = kind.__module__
    return kind.__qualname__ if module in (None, "builtins") else f"{module}.{kind.__qualname__}"


try:  # util-genai's helper where the installed release has it: one definition of error.type for GenAI spans
    from opentelemetry.util.genai.utils import fq_exception_type
except ImportError:  # pragma: no cover - older util-genai
    fq_exception_type = _fq_exception_type
"""``error.type`` of an exception: its qualified type name, builtins unqualified (as the SDK's event says)."""


def exception_message(exc: BaseException) -> str:
    """``str(exc)``, encodable; ``<unprintable X object>`` (as tracebacks say) when its ``__str__`` raises."""
    try:
        return encodable_text(str(exc))
    except Exception:
        return f"<unprintable {type(exc).__name__} object>"


def _stacktrace(exc: BaseException) -> str:
    try:
        return encodable_text("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    except Exception:  # formatting is defensive already; an exotic exception still gets its event
        return ""


def mark_failed(span: Span, error_type: str, description: str | None = None) -> None:
    """Mark a span as failed without an exception (AG2 reports some failures as values)."""
    span.set_attribute(ERROR_TYPE, error_type)
    span.set_status(Status(StatusCode.ERROR, encodable_text(description or error_type)))


def record_exception(span: Span, exc: BaseException) -> None:
    """Record an application exception: the ``exception`` event (as the SDK makes it), ``error.type`` and
    ERROR status."""
    if not span.is_recording():
        return
    message = exception_message(exc)
    span.add_event(
        EXCEPTION_EVENT,
        {
            EXCEPTION_TYPE: _fq_exception_type(exc),
            EXCEPTION_MESSAGE: message,
            EXCEPTION_STACKTRACE: _stacktrace(exc),
        },
    )
    mark_failed(span, fq_exception_type(exc), f"{type(exc).__name__}: {message}")
