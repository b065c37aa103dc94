"""The benchmark's exporters: they count what they are given and drop it (imported only when tracing)."""

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
    """Counts the metric points it is given and drops them; export always succeeds."""

    def __init__(self) -> None:
        super().__init__()
        self.points = 0

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: object) -> MetricExportResult:
        for resource in metrics_data.resource_metrics:
            for scope in resource.scope_metrics:
                self.points += sum(len(metric.data.data_points) for metric in scope.metrics)
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
