"""The client side of A2A: one CLIENT span per remote call, and trace context on every request it sends.

* ``A2aRemoteAgent.a_generate_remote_reply`` (reached through the agent's ``_reply_func_list``, see
  :mod:`.reply_swaps`) makes the ``invoke_agent {agent}`` CLIENT span of each remote call.
* ``httpx.AsyncClient.send`` injects the current context with the global propagator into every request
  sent while such a span is current (agent card, ``message/stream``, ``message/send``, ``tasks/get``...),
  at send time, whatever client factory or transport built the client.
* ``A2aRemoteAgent._ask_streaming`` / ``_ask_polling`` put the A2A context and task ids on the span.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator
from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace import SpanKind

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.classic import modules
from opentelemetry_instrumentation_ag2.classic.reply_swaps import ReplyFunctionSwaps, as_method
from opentelemetry_instrumentation_ag2.content import output_json
from opentelemetry_instrumentation_ag2.encodable import encodable_attributes, encodable_text
from opentelemetry_instrumentation_ag2.endpoints import url_port
from opentelemetry_instrumentation_ag2.patching import Patch
from opentelemetry_instrumentation_ag2.remote.a2a_propagation import HTTPX_SEND, IN_REMOTE_CALL
from opentelemetry_instrumentation_ag2.signals import Measure
from opentelemetry_instrumentation_ag2.spans import ActiveSpan, SpanStart, TracingSession

logger = logging.getLogger(__name__)

CLIENT_MODULE = modules.A2A_CLIENT


class RemoteAgentSpans:
    """Describes and finishes the CLIENT span of a remote agent call."""

    def __init__(self, telemetry: TracingSession) -> None:
        self.telemetry = telemetry

    def remote_call(self, agent: Any, args: tuple, kwargs: dict) -> SpanStart:
        url = str(getattr(agent, "url", ""))
        attributes: dict[str, Any] = {
            attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_AGENT,
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_INVOKE_AGENT,
            attr.GEN_AI_AGENT_NAME: agent.name,
            attr.GEN_AI_AGENT_REMOTE: True,
            attr.SERVER_ADDRESS: url,
        }
        port = url_port(url)
        if port:
            attributes[attr.SERVER_PORT] = port
        return SpanStart(
            f"invoke_agent {agent.name}",
            attributes,
            SpanKind.CLIENT,
            agent=agent,
            context_values={IN_REMOTE_CALL: True},
            measure=Measure.CLIENT_OPERATION,
            event_name=attr.EVENT_AGENT_DETAILS,
        )

    def remote_reply(self, span: ActiveSpan, result: Any) -> None:
        _, reply = result
        if self.telemetry.capture_content and reply is not None:
            span.set_content(attr.GEN_AI_OUTPUT_MESSAGES, output_json(reply))


def is_remote(agent: Any) -> bool:
    """Whether the agent answers through a remote service (``A2aRemoteAgent``)."""
    return hasattr(type(agent), "a_generate_remote_reply")


def observe_exchange(wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
    """wrapt wrapper for ``_ask_streaming`` / ``_ask_polling``: A2A ids onto the remote call's span."""
    events = wrapped(*args, **kwargs)
    if not context.get_value(IN_REMOTE_CALL):
        return events
    span = trace.get_current_span()
    try:
        message = args[1] if len(args) > 1 else kwargs["message"]
        context_id = getattr(message, "context_id", None)
        if context_id:
            span.set_attributes(
                encodable_attributes({attr.A2A_CONTEXT_ID: context_id, attr.GEN_AI_CONVERSATION_ID: context_id})
            )
    except Exception:
        logger.debug("ag2 instrumentation failed to read the A2A message", exc_info=True)
    # AG2 >= 0.11 streams events; older releases return the reply from a coroutine
    return _record_tasks(events, span) if inspect.isasyncgen(events) else events


TaskNote = tuple[str, str | None]
"""A task's id and state, as last put on a span."""


async def _record_tasks(events: AsyncIterator[Any], span: trace.Span) -> AsyncIterator[Any]:
    """Pass the A2A events through, noting the task id and state on the span each time they change (not
    on every event: a long stream of artifact updates in one state sets them once)."""
    noted: TaskNote | None = None
    try:
        async for event in events:
            if isinstance(event, tuple) and event and event[0] is not None:
                noted = _note_task(span, event[0], noted)
            yield event
    finally:
        await events.aclose()


def _note_task(span: trace.Span, task: Any, noted: TaskNote | None) -> TaskNote | None:
    """Put the task's id and state on the span unless they are those ``noted`` already; what is noted now."""
    try:
        state = getattr(getattr(task, "status", None), "state", None)
        seen = (
            encodable_text(str(task.id)),
            None if state is None else encodable_text(str(getattr(state, "value", state))),
        )
        if seen != noted:
            span.set_attribute(attr.A2A_TASK_ID, seen[0])
            if seen[1] is not None:
                span.set_attribute(attr.A2A_TASK_STATE, seen[1])
        return seen
    except Exception:
        logger.debug("ag2 instrumentation failed to read an A2A task", exc_info=True)
        return noted


def a2a_client_patches(telemetry: TracingSession, swaps: ReplyFunctionSwaps) -> list[Patch]:
    """The A2A client patches, or none when ``autogen.a2a`` is not importable."""
    try:
        from autogen.a2a.client import A2aRemoteAgent
    except ImportError:
        return []
    spans = RemoteAgentSpans(telemetry)
    remote_call = telemetry.traced(spans.remote_call, spans.remote_reply, is_async=True)
    swaps.add(A2aRemoteAgent.a_generate_remote_reply, as_method(remote_call))
    return [
        HTTPX_SEND,
        Patch(CLIENT_MODULE, "A2aRemoteAgent._ask_streaming", observe_exchange),
        Patch(CLIENT_MODULE, "A2aRemoteAgent._ask_polling", observe_exchange),
    ]
