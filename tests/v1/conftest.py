"""Fixtures for the AG2 1.x tests, beside the shared ones of ``tests/support/fixtures.py``: AG2 instrumented as
users do it, through ``AG2Instrumentor().instrument(...)`` (undone at teardown), and checked to have patched 1.x."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from opentelemetry_instrumentation_ag2.config import CAPTURE_MESSAGE_CONTENT_ENV
from opentelemetry_instrumentation_ag2.v1 import AGENT_MODULE
from tests.support.fixtures import InstrumentAG2, Traced
from tests.v1.helpers import patched


@pytest.fixture(autouse=True)
def no_content_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from the default: no capture variable set."""
    monkeypatch.delenv(CAPTURE_MESSAGE_CONTENT_ENV, raising=False)


@pytest.fixture
def instrument(instrument_ag2: InstrumentAG2) -> InstrumentAG2:
    """``instrument_ag2`` checking that the 1.x patches are on: call it after setting the environment, with
    ``instrument()``'s keywords if the test needs them (``capture_message_content``)."""

    def instrument(**options: object) -> AG2Instrumentor:
        instrumentor = instrument_ag2(**options)
        assert patched(AGENT_MODULE, "Agent._turn_scope"), "no 1.x patch applied"
        return instrumentor

    return instrument


@pytest.fixture
def traced(instrument: InstrumentAG2, tracer_provider: TracerProvider, span_exporter: InMemorySpanExporter) -> Traced:
    """AG2 instrumented when the test calls ``traced()`` (once its servers are up); ``traced.spans()`` once
    every started span has ended."""
    return Traced(instrument, tracer_provider, span_exporter)


@pytest.fixture
def instrumented(traced: Traced) -> Traced:
    """AG2 instrumented from the start of the test; ``instrumented.spans()`` once every started span has ended."""
    traced()
    return traced


@pytest.fixture
def network_instrumented(instrument: InstrumentAG2) -> AG2Instrumentor:
    """AG2 instrumented, with ``ag2.network``'s patches among what it put in place."""
    from tests.v1.network_support import assert_network_patched  # imports ag2.network: only where it is wanted

    instrumentor = instrument()
    assert_network_patched()
    return instrumentor
