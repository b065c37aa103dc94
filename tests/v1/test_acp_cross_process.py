"""Zero code, two processes over ACP (JSON-RPC over the agent's stdio): one trace through ``_meta``.

``tests.v1.acp_app serve`` is an AG2 agent served by ``ACPAgent`` under ``opentelemetry-instrument``, exporting
real OTLP/gRPC to an in-test receiver, with no tracing code and no other instrumentation. Its client is either the
acp SDK's own client in the test process, putting a W3C ``traceparent`` of its choosing in the prompt's
``_meta``, or AG2's ``ACPConfig`` client (``tests.v1.acp_app ask``) under ``opentelemetry-instrument`` too.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest
from packaging.version import Version

if Version(version("ag2")) < Version("1.1"):  # ag2 1.0 has an ACP client but no ACPAgent to serve an agent
    pytest.skip("serving an agent over ACP needs ag2 >= 1.1", allow_module_level=True)

import acp
from acp import schema

from tests.support.otlp_receiver import ReceivedSpan, TraceReceiver, children, subtree
from tests.support.processes import ROOT, instrumented_module, otlp_env, run_to_end
from tests.v1.ag_ui_support import CALLER_SPAN_ID, caller_trace

pytestmark = pytest.mark.timeout(180)

SERVED_SERVICE = "coder-service"
SERVED_TURN = [("chat gpt-test", "CLIENT"), ("chat gpt-test", "CLIENT"), ("execute_tool read_notes", "INTERNAL")]


class EditorClient:
    """The client side of an editor: keeps the agent's updates, allows what it asks permission for."""

    def __init__(self) -> None:
        self.updates: list[Any] = []

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update)

    async def request_permission(
        self, session_id: str, tool_call: Any, options: list[schema.PermissionOption], **kwargs: Any
    ) -> schema.RequestPermissionResponse:
        outcome = schema.AllowedOutcome(outcome="selected", option_id=options[0].option_id)
        return schema.RequestPermissionResponse(outcome=outcome)


async def prompt_once(env: dict[str, str], meta: dict[str, str]) -> tuple[str, list[Any]]:
    """Launch the served agent, open a session, send one prompt with ``meta`` as its ``_meta``; its stop reason
    and the updates it streamed."""
    client = EditorClient()
    command = instrumented_module("tests.v1.acp_app", "serve")
    async with acp.spawn_agent_process(client, *command, env=env, cwd=ROOT) as (connection, _):
        await connection.initialize(protocol_version=acp.PROTOCOL_VERSION)
        session = await connection.new_session(cwd=str(ROOT))
        response = await connection.prompt(session.session_id, [acp.text_block("Write the tests.")], **meta)
    return response.stop_reason, client.updates


def served_env(receiver: TraceReceiver) -> dict[str, str]:
    return otlp_env(SERVED_SERVICE, receiver.grpc_endpoint, httpx_spans=True) | {"PYTHONPATH": str(ROOT)}


def prompt_span(spans: list[ReceivedSpan]) -> ReceivedSpan:
    (found,) = [s for s in spans if s.name == "acp.request" and s.attributes.get("method") == "session/prompt"]
    return found


def served_turn_arrived(spans: list[ReceivedSpan]) -> bool:
    prompts = [s for s in spans if s.name == "acp.request" and s.attributes.get("method") == "session/prompt"]
    return bool(prompts) and len(subtree(prompts[0], spans)) >= 5


def assert_served_turn_beneath(request: ReceivedSpan, spans: list[ReceivedSpan]) -> None:
    (turn,) = children(request, spans)
    assert (turn.name, turn.kind, turn.status_code, turn.service_name) == (
        "invoke_agent coder",
        "INTERNAL",
        "UNSET",
        SERVED_SERVICE,
    )
    assert sorted((s.name, s.kind) for s in subtree(turn, spans)[1:]) == SERVED_TURN
    assert {s.trace_id for s in subtree(request, spans)} == {request.trace_id}


async def test_a_prompt_whose_meta_carries_context_continues_it() -> None:
    trace_id, traceparent = caller_trace()
    with TraceReceiver() as receiver:
        stop_reason, updates = await prompt_once(served_env(receiver), {"traceparent": traceparent})
        spans = receiver.wait_for(served_turn_arrived, timeout=60)
    assert stop_reason == "end_turn"
    assert any(getattr(getattr(u, "content", None), "text", None) == "All done." for u in updates)

    request = prompt_span(spans)
    assert (request.trace_id, request.parent_span_id) == (trace_id, CALLER_SPAN_ID)
    assert_served_turn_beneath(request, spans)
    caller_trace_spans = {s.span_id for s in spans if s.trace_id == trace_id}
    assert caller_trace_spans == {s.span_id for s in subtree(request, spans)}, "the other requests carried none"


@pytest.mark.parametrize(
    "traceparent",
    [
        "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-" + "a" * 8192,
    ],
)
async def test_a_malformed_traceparent_in_meta_starts_a_fresh_trace(traceparent: str) -> None:
    with TraceReceiver() as receiver:
        stop_reason, _ = await prompt_once(served_env(receiver), {"traceparent": traceparent})
        spans = receiver.wait_for(served_turn_arrived, timeout=60)
    assert stop_reason == "end_turn"
    request = prompt_span(spans)
    assert request.parent_span_id is None
    assert request.trace_id not in ("4bf92f3577b34da6a3ce929d0e0e4736", "0" * 32)
    assert_served_turn_beneath(request, spans)


def test_ag2_as_the_acp_client_sends_its_context_in_meta() -> None:
    """AG2 on both sides: the client's model call (an ACP ``session/prompt``) and the served turn, one trace."""

    def complete(spans: list[ReceivedSpan]) -> bool:
        return any(s.name == "invoke_agent editor" for s in spans) and served_turn_arrived(spans)

    with TraceReceiver() as receiver:
        env = otlp_env("editor-service", receiver.grpc_endpoint, httpx_spans=True)
        reply = run_to_end(instrumented_module("tests.v1.acp_app", "ask"), env)
        assert "REPLY: All done." in reply
        spans = receiver.wait_for(complete, timeout=60)

    (editor,) = [s for s in spans if s.name == "invoke_agent editor"]
    assert (editor.parent_span_id, editor.service_name) == (None, "editor-service")
    request = prompt_span(spans)
    assert request.trace_id == editor.trace_id, "one trace across both processes"
    model_call = next(s for s in spans if s.span_id == request.parent_span_id)
    assert (model_call.kind, model_call.service_name) == ("CLIENT", "editor-service")
    assert model_call.parent_span_id == editor.span_id
    assert_served_turn_beneath(request, spans)
