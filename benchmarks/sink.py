"""The benchmark's exporters: they drop what they are given, counting spans (imported only when tracing)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class DiscardingExporter(SpanExporter):
    """Counts the spans it is given and drops them; export always succeeds."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            self.count += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered here."""
        return True


class DiscardingMetricExporter(MetricExporter):
    """Drops the metrics it is given; export always succeeds."""

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: object) -> MetricExportResult:
        return MetricExportResult.SUCCESS

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: object) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        """Nothing is buffered here."""
        return True


BATCH_PROCESSOR_LOGGER = "opentelemetry.sdk._shared_internal"


class DropCounter(logging.Filter):
    """Counts the spans the batch processor drops because its queue is full.

    The SDK logs "Queue full, dropping Span." for each (its own filter then hides repeats), so this filter
    goes first on that logger. Spans made = spans exported + spans dropped.
    """

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Queue full"):
            self.count += 1
        return True

    @classmethod
    def install(cls) -> DropCounter:
        """A counter placed before the SDK's own filters."""
        counter = cls()
        logging.getLogger(BATCH_PROCESSOR_LOGGER).filters.insert(0, counter)
        return counter
