"""Fixtures in the openai-v2 style: in-memory exporters and providers passed to ``instrument()``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_ag2 import AG2Instrumentor

from .scripted_llm import ScriptedLLM


@pytest.fixture
def span_exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(span_exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    return provider


@pytest.fixture
def instrument(tracer_provider: TracerProvider) -> Iterator[AG2Instrumentor]:
    """AG2 instrumented with content capture off (the default)."""
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    yield instrumentor
    instrumentor.uninstrument()


@pytest.fixture
def instrument_with_content(tracer_provider: TracerProvider) -> Iterator[AG2Instrumentor]:
    """AG2 instrumented with content on spans."""
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, capture_message_content="SPAN_ONLY")
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
