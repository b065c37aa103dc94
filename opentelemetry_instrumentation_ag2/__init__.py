"""OpenTelemetry instrumentation for AG2 multi-agent systems: the classic ``import autogen`` line and AG2 1.x
(``import ag2``).

Traces conversations, agent turns, LLM calls, tool and code execution and human input, with
no change to the application.

Usage
-----

.. code-block:: python

    from opentelemetry_instrumentation_ag2 import AG2Instrumentor

    AG2Instrumentor().instrument()

    # ... build and run AG2 agents as usual

Or with no code at all: ``opentelemetry-instrument python app.py``.

Message content (messages, tool arguments and results, human input, code and its output) is not
recorded unless ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (or the
``capture_message_content`` keyword of ``instrument()``) asks for it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from opentelemetry._logs import get_logger
from opentelemetry.instrumentation.dependencies import DependencyConflict, get_dependency_conflicts
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.metrics import get_meter
from opentelemetry.semconv.schemas import Schemas
from opentelemetry.trace import get_tracer

from opentelemetry_instrumentation_ag2.classic import ClassicLine
from opentelemetry_instrumentation_ag2.config import Settings
from opentelemetry_instrumentation_ag2.package import _instruments, _instruments_any
from opentelemetry_instrumentation_ag2.remote.a2a_sdk import quiet_a2a_sdk_tracing
from opentelemetry_instrumentation_ag2.signals import Signals
from opentelemetry_instrumentation_ag2.spans import TracingSession
from opentelemetry_instrumentation_ag2.v1 import V1Line
from opentelemetry_instrumentation_ag2.version import __version__

__all__ = ["AG2Instrumentor", "__version__"]

logger = logging.getLogger(__name__)


class AG2Instrumentor(BaseInstrumentor):
    """Traces AG2 agents.

    ``instrument()`` takes the optional ``tracer_provider``, ``meter_provider`` and ``logger_provider``
    (the global ones by default) and ``capture_message_content`` (overrides
    ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``).
    """

    def __init__(self) -> None:
        super().__init__()
        if hasattr(self, "_lines"):
            return  # a singleton: AG2Instrumentor() hands back the instance that holds the patches
        self._lines = (ClassicLine(), V1Line())
        self._instrumented: list[ClassicLine | V1Line] = []
        self._telemetry: TracingSession | None = None
        self._signals: tuple[Any, Any, Signals] | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _check_dependency_conflicts(self) -> DependencyConflict | None:
        # AG2 is published as both ``ag2`` and ``autogen``: any one supported release is enough
        return get_dependency_conflicts(_instruments, _instruments_any)

    def _instrument(self, **kwargs: Any) -> None:
        lines = [line for line in self._lines if line.importable()]
        if not lines:
            raise ModuleNotFoundError("neither AG2 line (autogen, ag2) is importable")
        quiet_a2a_sdk_tracing()  # before anything imports a2a-sdk
        schema_url = Schemas.V1_37_0.value
        tracer = get_tracer(__name__, __version__, kwargs.get("tracer_provider"), schema_url=schema_url)
        telemetry = TracingSession(
            tracer,
            self._signals_for(kwargs.get("meter_provider"), kwargs.get("logger_provider")),
            Settings.from_env(kwargs.get("capture_message_content")),
        )
        self._telemetry = telemetry
        for line in lines:
            line.instrument(telemetry)
            self._instrumented.append(line)

    def _signals_for(self, meter_provider: Any, logger_provider: Any) -> Signals:
        """The metric instruments and event logger for these providers, made once (the API's proxy providers
        keep every meter they hand out, so re-creating them on each ``instrument()`` would grow forever)."""
        if self._signals is None or self._signals[:2] != (meter_provider, logger_provider):
            schema_url = Schemas.V1_37_0.value
            meter = get_meter(__name__, __version__, meter_provider, schema_url=schema_url)
            event_logger = get_logger(__name__, __version__, logger_provider, schema_url=schema_url)
            self._signals = (meter_provider, logger_provider, Signals(meter, event_logger))
        return self._signals[2]

    def _uninstrument(self, **kwargs: Any) -> None:
        for line in self._instrumented:
            line.uninstrument()
        self._instrumented = []
        if self._telemetry is not None:
            self._telemetry.enabled = False
            self._telemetry = None
