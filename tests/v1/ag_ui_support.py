"""An AG-UI app process (``tests.v1.ag_ui_app``) and an AG-UI client for the cross-process tests.

The client is plain httpx in the test process, sending a W3C ``traceparent`` it chose: the server never shares
its context, so a continued trace proves the request carried it.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

import httpx
import pytest
from packaging.version import Version

from tests.support.otlp_receiver import ReceivedSpan
from tests.support.processes import RunningProcess, instrumented_module

APP_MODULE = "tests.v1.ag_ui_app"
_AG2_1_0 = Version(version("ag2")) < Version("1.1")


def since_ag2_1_1(what_1_0_lacks: str) -> pytest.MarkDecorator:
    """Skip a test of AG-UI behaviour that ag2 1.0's endpoint does not have (the reason says which)."""
    return pytest.mark.skipif(_AG2_1_0, reason=f"ag2 1.0's AG-UI endpoint {what_1_0_lacks}")


CALLER_SPAN_ID = "00f067aa0ba902b7"


def caller_trace() -> tuple[str, str]:
    """A new trace id of the caller's, and the ``traceparent`` naming it and :data:`CALLER_SPAN_ID` (sampled)."""
    trace_id = uuid.uuid4().hex
    return trace_id, f"00-{trace_id}-{CALLER_SPAN_ID}-01"


@contextmanager
def ag_ui_server(env: dict[str, str], *, traced: bool = True) -> Iterator[str]:
    """The AG-UI app process (under ``opentelemetry-instrument`` when ``traced``); yields its base URL once ready."""
    command = instrumented_module(APP_MODULE) if traced else [sys.executable, "-m", APP_MODULE]
    with RunningProcess(command, env) as process:
        url = process.wait_for_line("READY ")
        yield url
        process.finish()


def run_input(run_id: str, text: str = "Weather in Paris?") -> dict[str, Any]:
    """A ``RunAgentInput`` body: one user message on thread ``t-1``."""
    return {
        "threadId": "t-1",
        "runId": run_id,
        "state": {},
        "messages": [{"id": f"m-{run_id}", "role": "user", "content": text}],
        "tools": [],
        "context": [],
        "forwardedProps": {},
    }


def post_run(url: str, run_id: str, headers: Sequence[tuple[str, str | bytes]] = ()) -> list[dict[str, Any]]:
    """POST a run with these extra headers and read its whole server-sent event stream; the events, decoded."""
    with httpx.Client(timeout=60) as client:
        response = client.post(url, json=run_input(run_id), headers=[("accept", "text/event-stream"), *headers])
        assert response.status_code == 200, response.text
        return [json.loads(line[len("data: ") :]) for line in response.text.splitlines() if line.startswith("data: ")]


def without_volatile_fields(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events less what differs between two runs of the same input (timestamps, generated message ids)."""
    return [{key: value for key, value in event.items() if key not in ("timestamp", "messageId")} for event in events]


def execution_of(spans: list[ReceivedSpan], run_id: str) -> ReceivedSpan:
    """The one ``ag-ui-execution`` span of the run ``run_id``."""
    found = [s for s in spans if s.name == "ag-ui-execution" and s.attributes.get("ag_ui.run.id") == run_id]
    assert len(found) == 1, [(s.name, s.attributes) for s in spans]
    return found[0]
