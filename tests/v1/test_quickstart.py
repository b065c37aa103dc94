"""The README's quick start on AG2 1.x: the app, zero-code and with the in-code snippet, traced whole."""

from __future__ import annotations

import pytest

from tests.support.quickstart import ANSWER, in_code, traced_run, zero_code

pytestmark = pytest.mark.timeout(150)


@pytest.mark.parametrize("launch", [zero_code, in_code], ids=["opentelemetry-instrument", "readme-snippet"])
def test_quickstart_app_is_one_trace(launch):
    launched = launch("quickstart_v1.py")
    spans, model, output = traced_run(launched, "invoke_agent assistant")

    assert ANSWER in output
    assert len({s.trace_id for s in spans}) == 1
    assert {s.service_name for s in spans} == {launched.service}
    ours = [s for s in spans if s.scope_name == "opentelemetry_instrumentation_ag2"]
    root = next(s for s in spans if s.parent_span_id is None)
    assert root.name == "invoke_agent assistant"
    chats = [s for s in spans if s.name == "chat gpt-4o-mini"]  # openai-v2's, where util-genai < 1.3 has it
    assert len(chats) == len(model.requests) == 2
    tool = next(s for s in ours if s.name == "execute_tool get_weather")
    assert {s.parent_span_id for s in [*chats, tool]} == {root.span_id}
    assert root.attributes["gen_ai.usage.output_tokens"] == sum(
        c.attributes["gen_ai.usage.output_tokens"] for c in chats
    )
