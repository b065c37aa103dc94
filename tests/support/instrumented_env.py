"""The environment of an example process run under ``opentelemetry-instrument`` and exporting to one receiver."""

from __future__ import annotations

import os


def instrumented_env(service: str, endpoint: str, protocol: str) -> dict[str, str]:
    """This process's environment less its ``OTEL_*``, plus one service name and OTLP traces to ``endpoint``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    return environment | {
        "OTEL_SERVICE_NAME": service,
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        # the httpx (and httpx2, AG2 1.x's) transport spans would sit between the agent spans and add nothing here
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "httpx,httpx2",
        "PYTHONUNBUFFERED": "1",
    }
