"""A participant connected over AG2's WebSocket transport (here in the same process, on 127.0.0.1): its turn sits
under the envelope that reached it, and its reply, which travels as a ``post_envelope`` request, continues the
trace on the hub's side."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import MethodType
from typing import Any

import pytest
from ag2.network import EV_TEXT, HubClient
from ag2.network.transport import WsLink, serve_ws
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_ag2.patching import original_function
from opentelemetry_instrumentation_ag2.v1.network import HUB_MODULE
from opentelemetry_instrumentation_ag2.v1.network_context import TRACE_CONTEXT_PARAM
from tests.v1.helpers import is_child, one
from tests.v1.network_support import bob_consulted, counts, envelopes, local_hub, question_and_reply, settled

pytestmark = pytest.mark.timeout(60)


@asynccontextmanager
async def consulting_over_websocket(
    requests: list[dict[str, Any]] | None = None, *, hub_patched: bool = True
) -> AsyncIterator[Any]:
    """alice in the hub's process asks bob, who is connected over a WebSocket; yields bob's answer.

    ``requests`` collects the params of every request as the hub's own code sees them; ``hub_patched=False``
    handles requests as a hub without our patch would.
    """
    async with local_hub() as (hub, local), serve_ws(hub, "127.0.0.1", 0) as server:
        if not hub_patched:
            hub._handle_request = MethodType(original_function(HUB_MODULE, "Hub._handle_request"), hub)  # type: ignore[method-assign]
        if requests is not None:
            dispatch = hub._dispatch_request_op

            async def recording(endpoint: Any, op: str, params: dict[str, Any]) -> Any:
                requests.append(dict(params))
                return await dispatch(endpoint, op, params)

            hub._dispatch_request_op = recording  # type: ignore[method-assign]
        port = server.sockets[0].getsockname()[1]
        remote = HubClient(WsLink(f"ws://127.0.0.1:{port}"))
        try:
            _, answer = await bob_consulted(local, "What is the answer?", "Forty-two.", bob_client=remote)
            yield answer
        finally:
            await remote.close()


async def test_a_websocket_participant_answers_in_the_same_trace(
    network_instrumented, span_exporter: InMemorySpanExporter
):
    async with consulting_over_websocket() as answer:
        spans = await settled(span_exporter, counts(2, 1))

    assert answer.event_data == {"text": "Forty-two."}
    question_and_reply(spans)


async def test_a_hub_without_our_patch_ignores_the_trace_context_a_participant_sends(
    network_instrumented, span_exporter: InMemorySpanExporter
):
    requests: list[dict[str, Any]] = []
    async with consulting_over_websocket(requests, hub_patched=False) as answer:
        spans = await settled(span_exporter, counts(2, 1))

    assert answer.event_data == {"text": "Forty-two."}, "the reply got through"
    replies = [params for params in requests if params.get("envelope", {}).get("event_type") == EV_TEXT]
    assert len(replies) == 1 and TRACE_CONTEXT_PARAM in replies[0]
    question, reply = envelopes(spans)
    assert is_child(one(spans, "invoke_agent bob"), question)
    assert reply.parent is None, "without the hub's side the reply starts a trace of its own"


async def test_the_hub_takes_the_trace_context_off_the_request(
    network_instrumented, span_exporter: InMemorySpanExporter
):
    requests: list[dict[str, Any]] = []
    async with consulting_over_websocket(requests) as answer:
        await settled(span_exporter, counts(2, 1))
    assert answer.event_data == {"text": "Forty-two."}
    assert all(TRACE_CONTEXT_PARAM not in params for params in requests)
