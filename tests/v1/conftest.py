"""Fixtures for the AG2 1.x tests: in-memory exporters and the 1.x patches applied to a test ``Telemetry``.

The ``Telemetry`` is built the way ``AG2Instrumentor._instrument`` builds it (tracer of the package's scope
from the test provider, ``Signals``, ``Settings.from_env(None)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from opentelemetry._logs import get_logger
from opentelemetry.metrics import get_meter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv.schemas import Schemas
from opentelemetry.trace import get_tracer

from opentelemetry_instrumentation_ag2 import AG2Instrumentor, v1
from opentelemetry_instrumentation_ag2.config import CAPTURE_MESSAGE_CONTENT_ENV, Settings
from opentelemetry_instrumentation_ag2.patching import Patch
from opentelemetry_instrumentation_ag2.signals import Signals
from opentelemetry_instrumentation_ag2.spans import Telemetry
from opentelemetry_instrumentation_ag2.version import __version__

SCOPE = "opentelemetry_instrumentation_ag2"


@pytest.fixture
def span_exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(span_exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    return provider


@pytest.fixture
def metric_reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def log_exporter() -> InMemoryLogRecordExporter:
    return InMemoryLogRecordExporter()


@pytest.fixture(autouse=True)
def no_content_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from the default: no capture variable set."""
    monkeypatch.delenv(CAPTURE_MESSAGE_CONTENT_ENV, raising=False)


@pytest.fixture
def instrument(
    tracer_provider: TracerProvider, metric_reader: InMemoryMetricReader, log_exporter: InMemoryLogRecordExporter
) -> Iterator[Callable[[], Telemetry]]:
    """Applies ``v1.patches`` to a fresh ``Telemetry`` (call it after setting the environment); undone at teardown."""
    applied: list[tuple[Telemetry, list[Patch]]] = []
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    meter_provider = MeterProvider(metric_readers=[metric_reader])

    def apply() -> Telemetry:
        schema_url = Schemas.V1_37_0.value
        telemetry = Telemetry(
            get_tracer(SCOPE, __version__, tracer_provider, schema_url=schema_url),
            Signals(
                get_meter(SCOPE, __version__, meter_provider, schema_url=schema_url),
                get_logger(SCOPE, __version__, logger_provider, schema_url=schema_url),
            ),
            Settings.from_env(None),
        )
        patches = [patch for patch in v1.patches(telemetry) if patch.apply()]
        assert patches, "no 1.x patch applied"
        applied.append((telemetry, patches))
        return telemetry

    yield apply
    for telemetry, patches in applied:
        for patch in patches:
            patch.remove()
        telemetry.enabled = False


@pytest.fixture
def instrumented(tracer_provider: TracerProvider) -> Iterator[None]:
    """Tracing turned on as users turn it on: ``AG2Instrumentor().instrument()``, undone at teardown."""
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    yield
    instrumentor.uninstrument()
