"""The README's quick start on the classic line: the app, zero-code and with the in-code snippet, traced whole."""

from __future__ import annotations

import json

import pytest

from tests.support.quickstart import ANSWER, app_env, in_code, local_backend, run_app, traced_run, zero_code

pytestmark = pytest.mark.timeout(150)


@pytest.mark.parametrize("launch", [zero_code, in_code], ids=["opentelemetry-instrument", "readme-snippet"])
def test_quickstart_app_is_one_trace(launch):
    found = traced_run(launch("quickstart_classic.py"), "conversation user")

    assert [found.by_id[c.parent_span_id].name for c in found.chats] == ["invoke_agent assistant"] * 2
    assert found.by_id[found.tool.parent_span_id].name == "invoke_agent user"


def test_local_backend_answers_the_app_and_prints_its_trace():
    with local_backend() as (model_url, otlp_endpoint, backend):
        output = run_app(zero_code("quickstart_classic.py").command, app_env(model_url, otlp_endpoint))
        assert backend.stdout is not None
        printed = json.loads(backend.stdout.readline())  # one JSON line per trace, once the trace is quiet

    assert ANSWER in output
    names = sorted(span["name"] for span in printed["spans"])
    assert names.count("chat gpt-4o-mini") == 2
    assert {"conversation user", "invoke_agent assistant", "execute_tool get_weather"} <= set(names)
