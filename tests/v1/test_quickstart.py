"""The README's quick start on AG2 1.x: the app, zero-code and with the in-code snippet, traced whole."""

from __future__ import annotations

import pytest

from tests.support.quickstart import in_code, traced_run, zero_code

pytestmark = pytest.mark.timeout(150)


@pytest.mark.parametrize("launch", [zero_code, in_code], ids=["opentelemetry-instrument", "readme-snippet"])
def test_quickstart_app_is_one_trace(launch):
    found = traced_run(launch("quickstart_v1.py"), "invoke_agent assistant")

    assert {s.parent_span_id for s in [*found.chats, found.tool]} == {found.root.span_id}
