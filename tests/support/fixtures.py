"""The fixtures both lines' tests share, in the openai-v2 style: in-memory exporters and readers, the three
providers passed to ``AG2Instrumentor().instrument(...)``, and ``uninstrument()`` at teardown; and an OTLP
receiver for the processes of a cross-process test module.

``tests/conftest.py`` registers this module as a plugin: every test folder has these fixtures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from tests.support.otlp_receiver import TraceReceiver

InstrumentAG2 = Callable[..., AG2Instrumentor]
"""The ``instrument_ag2`` fixture: ``instrument_ag2(capture_message_content=...)``."""


class SpanCollector(InMemorySpanExporter):
    """An in-memory exporter a test can wait on (spans of servers in other threads end after the reply)."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = threading.Condition()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = super().export(spans)
        with self._changed:
            self._changed.notify_all()
        return result

    def wait_for(
        self, predicate: Callable[[tuple[ReadableSpan, ...]], bool], timeout: float = 15.0
    ) -> tuple[ReadableSpan, ...]:
        """The finished spans, once ``predicate`` holds for them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(spans := self.get_finished_spans()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"spans never matched; got {[s.name for s in spans]}")
                self._changed.wait(remaining)
        return spans


class OpenSpans(SpanProcessor):
    """The spans started on the test's provider and not ended yet, so that a test can wait for none to be left
    (a server in a thread of its own ends its spans just after it answered)."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.open: dict[int, str] = {}
        self._exporter = exporter
        self._changed = threading.Condition()

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        with self._changed:
            self.open[span.context.span_id] = span.name

    def on_end(self, span: ReadableSpan) -> None:
        with self._changed:
            self.open.pop(span.context.span_id, None)
            self._changed.notify_all()

    def ended(self, timeout: float = 15) -> tuple[ReadableSpan, ...]:
        """The finished spans, once every started one has ended (the exporter's processor was added first, so
        it has them by then)."""
        with self._changed:
            none_open = self._changed.wait_for(lambda: not self.open, timeout)
            assert none_open, f"spans never ended: {sorted(self.open.values())}"
        return self._exporter.get_finished_spans()


class Traced:
    """``traced()`` instruments AG2 as ``instrument_ag2`` does (a test calls it once its servers are up);
    ``traced.spans()`` is the finished spans once every started one has ended."""

    def __init__(self, instrument: InstrumentAG2, provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
        self._instrument = instrument
        self._open = OpenSpans(exporter)
        provider.add_span_processor(self._open)

    def __call__(self, **options: Any) -> AG2Instrumentor:
        return self._instrument(**options)

    @staticmethod
    def uninstrument() -> None:
        """``AG2Instrumentor().uninstrument()`` before the test ends (teardown does it otherwise)."""
        AG2Instrumentor().uninstrument()

    def spans(self, timeout: float = 15) -> tuple[ReadableSpan, ...]:
        """The finished spans once none is open (servers end theirs just after answering)."""
        return self._open.ended(timeout)


@pytest.fixture
def span_exporter() -> SpanCollector:
    """The test's finished spans, in memory (``span_exporter.wait_for(...)`` waits for some)."""
    return SpanCollector()


@pytest.fixture
def tracer_provider(span_exporter: InMemorySpanExporter) -> TracerProvider:
    """Exports each span to ``span_exporter`` as it ends."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    return provider


@pytest.fixture
def metric_reader() -> InMemoryMetricReader:
    """The test's metrics, read when the test asks."""
    return InMemoryMetricReader()


@pytest.fixture
def meter_provider(metric_reader: InMemoryMetricReader) -> MeterProvider:
    """Read by ``metric_reader``."""
    return MeterProvider(metric_readers=[metric_reader])


@pytest.fixture
def log_exporter() -> InMemoryLogRecordExporter:
    """The test's events (log records), in memory."""
    return InMemoryLogRecordExporter()


@pytest.fixture
def logger_provider(log_exporter: InMemoryLogRecordExporter) -> LoggerProvider:
    """Exports each event to ``log_exporter`` as it is emitted."""
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    return provider


@pytest.fixture(scope="module")
def receiver() -> Iterator[TraceReceiver]:
    """An OTLP receiver on 127.0.0.1 that a test module's processes export to (tests tell theirs apart by service)."""
    with TraceReceiver() as receiving:
        yield receiving


@pytest.fixture
def instrument_ag2(
    tracer_provider: TracerProvider, meter_provider: MeterProvider, logger_provider: LoggerProvider
) -> Iterator[InstrumentAG2]:
    """Instruments AG2 as users do: ``AG2Instrumentor().instrument(...)`` with the three in-memory providers and
    any of ``instrument()``'s other keywords (``capture_message_content``); ``uninstrument()`` at teardown.

    ``AG2Instrumentor`` is a singleton: a test instruments it once, and it is off again before the next test.
    """
    instrumentor = AG2Instrumentor()

    def instrument(**options: Any) -> AG2Instrumentor:
        assert not instrumentor.is_instrumented_by_opentelemetry, "AG2 is instrumented already"
        instrumentor.instrument(
            tracer_provider=tracer_provider, meter_provider=meter_provider, logger_provider=logger_provider, **options
        )
        return instrumentor

    yield instrument
    instrumentor.uninstrument()
