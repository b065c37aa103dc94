"""The environment of an example process run under ``opentelemetry-instrument`` and exporting to one receiver."""

from __future__ import annotations

import os

HTTPX_INSTRUMENTATIONS = "httpx,httpx2"
"""The httpx (and httpx2, AG2 1.x's) transport spans would sit between the agent spans and add nothing here."""


def instrumented_env(service: str, endpoint: str, protocol: str, *, httpx_spans: bool = False) -> dict[str, str]:
    """This process's environment less its ``OTEL_*``, plus one service name and OTLP traces to ``endpoint``; the
    httpx instrumentations off unless ``httpx_spans``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    settings = {
        "OTEL_SERVICE_NAME": service,
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "PYTHONUNBUFFERED": "1",
    }
    if not httpx_spans:
        settings["OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"] = HTTPX_INSTRUMENTATIONS
    return environment | settings
