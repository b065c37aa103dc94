"""``opentelemetry-instrument python app.py`` traces AG2 with no code change; disabling ``ag2`` turns us off."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tests.support.processes import ROOT, instrumented_module

pytestmark = pytest.mark.timeout(120)

SPAN_START = re.compile(r'^\{\n\s+"name": ', re.MULTILINE)


def console_spans(stdout: str) -> list[dict]:
    """The spans the console exporter printed, amid whatever else the app printed."""
    decoder = json.JSONDecoder()
    return [decoder.raw_decode(stdout, match.start())[0] for match in SPAN_START.finditer(stdout)]


def run_instrumented(base_url: str, **env: str) -> list[dict]:
    command = instrumented_module("tests.classic.agents_app", base_url)
    environment = os.environ | {
        "OTEL_SERVICE_NAME": "client-service",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        **env,
    }
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr
    return console_spans(done.stdout)


def test_opentelemetry_instrument_prints_the_seed_tree(llm):
    llm.push("Run it under gdb.", "Then read the backtrace.")
    spans = run_instrumented(llm.base_url)
    names = [span["name"] for span in spans]
    assert names.count("conversation user_proxy") == 1
    assert names.count("invoke_agent tech_agent") == 2
    assert names.count("chat gpt-4o-mini") == 2
    by_id = {span["context"]["span_id"]: span for span in spans}
    assert len({span["context"]["trace_id"] for span in spans}) == 1
    for span in spans:
        if span["name"] == "chat gpt-4o-mini":
            assert by_id[span["parent_id"]]["name"] == "invoke_agent tech_agent"
            assert span["kind"] == "SpanKind.CLIENT"
            assert span["attributes"]["gen_ai.usage.output_tokens"] == 5
        if span["name"].startswith("invoke_agent"):
            assert by_id[span["parent_id"]]["name"] == "conversation user_proxy"
    assert spans[0]["resource"]["attributes"]["service.name"] == "client-service"


def test_disabled_instrumentation_prints_none_of_ours(llm):
    llm.push("Run it under gdb.", "Then read the backtrace.")
    spans = run_instrumented(llm.base_url, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="ag2")
    assert [span["name"] for span in spans if "ag2.span.type" in span["attributes"]] == []
    assert not any(span["name"].startswith(("conversation", "invoke_agent")) for span in spans)
    assert len(llm.requests) == 2
