"""The classic line's in-memory fixtures, for the util-genai 1.3 environment (tox env ``classic-genai``)."""

from tests.classic.conftest import (  # noqa: F401 (fixtures)
    instrument,
    llm,
    log_exporter,
    logger_provider,
    meter_provider,
    metric_reader,
    span_exporter,
    tracer_provider,
)
