"""Fixtures in the openai-v2 style: in-memory exporters and providers passed to ``instrument()``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from tests.support.scripted_model import ScriptedLLM


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


@pytest.fixture
def span_exporter() -> SpanCollector:
    return SpanCollector()


@pytest.fixture
def tracer_provider(span_exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    return provider


@pytest.fixture
def metric_reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def meter_provider(metric_reader: InMemoryMetricReader) -> MeterProvider:
    return MeterProvider(metric_readers=[metric_reader])


@pytest.fixture
def log_exporter() -> InMemoryLogRecordExporter:
    return InMemoryLogRecordExporter()


@pytest.fixture
def logger_provider(log_exporter: InMemoryLogRecordExporter) -> LoggerProvider:
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    return provider


@pytest.fixture
def instrument(
    tracer_provider: TracerProvider, meter_provider: MeterProvider, logger_provider: LoggerProvider
) -> Iterator[AG2Instrumentor]:
    """AG2 instrumented with content capture off (the default), all three providers in memory."""
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(
        tracer_provider=tracer_provider, meter_provider=meter_provider, logger_provider=logger_provider
    )
    yield instrumentor
    instrumentor.uninstrument()


def by_name(spans: tuple[ReadableSpan, ...] | list[ReadableSpan], name: str) -> list[ReadableSpan]:
    """Spans with this name, in end order."""
    return [span for span in spans if span.name == name]


def parent_of(span: ReadableSpan, spans: tuple[ReadableSpan, ...] | list[ReadableSpan]) -> ReadableSpan | None:
    """The span's parent among ``spans``."""
    if span.parent is None:
        return None
    return next((s for s in spans if s.context.span_id == span.parent.span_id), None)


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    """A scripted OpenAI-compatible model on 127.0.0.1 (no retries, so a 500 surfaces at once)."""
    with ScriptedLLM() as server:
        yield server
