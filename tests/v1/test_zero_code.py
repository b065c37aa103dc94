"""Zero code: a 1.x app with no tracing code, run under ``opentelemetry-instrument``, prints one trace."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from tests.support.processes import ROOT, instrumented_module

pytestmark = pytest.mark.timeout(120)


def console_spans(output: str) -> list[dict[str, Any]]:
    """The spans the console exporter printed (JSON objects, one after another)."""
    decoder, spans, index = json.JSONDecoder(), [], output.find("{")
    while index != -1:
        try:
            found, end = decoder.raw_decode(output, index)
        except ValueError:
            index = output.find("{", index + 1)
            continue
        if isinstance(found, dict) and "context" in found and "name" in found:
            spans.append(found)
        index = output.find("{", end)
    return spans


def run_app(**environment: str) -> tuple[str, list[dict[str, Any]]]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_SERVICE_NAME": "weather-app",
        **environment,
    }
    done = subprocess.run(
        instrumented_module("tests.v1.app"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, console_spans(done.stdout)


def test_opentelemetry_instrument_prints_the_contract_spans_in_one_trace():
    output, spans = run_app()
    assert "REPLY: Sunny." in output
    by_name = {span["name"]: span for span in spans}
    assert sorted(by_name) == ["chat gpt-test", "execute_tool get_weather", "invoke_agent weather_agent"]
    assert len([s for s in spans if s["name"] == "chat gpt-test"]) == 2
    assert len({span["context"]["trace_id"] for span in spans}) == 1
    turn, tool = by_name["invoke_agent weather_agent"], by_name["execute_tool get_weather"]
    assert turn["parent_id"] is None and turn["kind"] == "SpanKind.INTERNAL"
    assert turn["attributes"]["gen_ai.agent.name"] == "weather_agent"
    assert tool["parent_id"] == turn["context"]["span_id"]
    assert tool["attributes"]["gen_ai.tool.name"] == "get_weather"
    assert tool["attributes"]["gen_ai.tool.description"] == "Today's weather for a city."
    assert all(s["parent_id"] == turn["context"]["span_id"] for s in spans if s["name"] == "chat gpt-test")
    assert all(s["resource"]["attributes"]["service.name"] == "weather-app" for s in spans)
    assert "Paris" not in json.dumps(spans)  # no content unless asked for


def test_the_kill_switch_prints_none_of_ours():
    output, spans = run_app(OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="ag2")
    assert "REPLY: Sunny." in output
    assert spans == []
