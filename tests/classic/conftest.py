"""Fixtures for the classic tests, beside the shared ones of ``tests/support/fixtures.py``: AG2 instrumented
through ``AG2Instrumentor().instrument(...)`` from the start of the test, a scripted model, and span lookups."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from tests.support.fixtures import InstrumentAG2
from tests.support.scripted_model import ScriptedLLM


@pytest.fixture
def instrument(instrument_ag2: InstrumentAG2) -> AG2Instrumentor:
    """AG2 instrumented with content capture off (the default), all three providers in memory."""
    return instrument_ag2()


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
