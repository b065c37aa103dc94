"""The README's quick start on the classic line: the app, zero-code and with the in-code snippet, traced whole."""

from __future__ import annotations

import json

import pytest

from tests.support.quickstart import ANSWER, app_env, in_code, local_backend, run_app, traced_run, zero_code

pytestmark = pytest.mark.timeout(150)


@pytest.mark.parametrize("launch", [zero_code, in_code], ids=["opentelemetry-instrument", "readme-snippet"])
def test_quickstart_app_is_one_trace(launch):
    launched = launch("quickstart_classic.py")
    spans, model, output = traced_run(launched, "conversation user")

    assert ANSWER in output
    assert len({s.trace_id for s in spans}) == 1
    assert {s.service_name for s in spans} == {launched.service}
    ours = [s for s in spans if s.scope_name == "opentelemetry_instrumentation_ag2"]
    by_id = {s.span_id: s for s in ours}
    chats = [s for s in spans if s.name == "chat gpt-4o-mini"]  # openai-v2's, where util-genai < 1.3 has it
    assert len(chats) == len(model.requests) == 2
    assert [by_id[c.parent_span_id].name for c in chats] == ["invoke_agent assistant"] * 2
    tool = next(s for s in ours if s.name == "execute_tool get_weather")
    assert by_id[tool.parent_span_id].name == "invoke_agent user"
    root = next(s for s in spans if s.parent_span_id is None)
    assert root.name == "conversation user"
    assert root.attributes["gen_ai.usage.output_tokens"] == sum(
        c.attributes["gen_ai.usage.output_tokens"] for c in chats
    )


def test_local_backend_answers_the_app_and_prints_its_trace():
    with local_backend() as (model_url, otlp_endpoint, backend):
        output = run_app(zero_code("quickstart_classic.py").command, app_env(model_url, otlp_endpoint))
        assert backend.stdout is not None
        printed = json.loads(backend.stdout.readline())  # one JSON line per trace, once the trace is quiet

    assert ANSWER in output
    names = sorted(span["name"] for span in printed["spans"])
    assert names.count("chat gpt-4o-mini") == 2
    assert {"conversation user", "invoke_agent assistant", "execute_tool get_weather"} <= set(names)
