"""``invoke_agent``, ``execute_tool`` and ``await_human_input`` spans of AG2 1.x agents.

The turn's ``describe`` gets the :class:`~opentelemetry_instrumentation_ag2.v1.turn_state.Turn` as its instance
(:mod:`.turns`); the others get the turn's :class:`~opentelemetry_instrumentation_ag2.v1.middleware.TracingMiddleware`
and the hook's ``(event, context)``.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.context import Context as OtelContext
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.content import as_text
from opentelemetry_instrumentation_ag2.errors import fq_exception_type
from opentelemetry_instrumentation_ag2.signals import Measure
from opentelemetry_instrumentation_ag2.spans import STARTED_SPAN, ActiveSpan, SpanStart, TracingSession, end_span
from opentelemetry_instrumentation_ag2.usage import USAGE, new_usage
from opentelemetry_instrumentation_ag2.v1.a2a_client import REMOTE_SPAN, remote_attributes, remote_card_url
from opentelemetry_instrumentation_ag2.v1.messages import reply_json, tool_result_text, turn_input_json
from opentelemetry_instrumentation_ag2.v1.turn_state import TURN, Turn

ENVELOPE_TRACEPARENT_KEY = "ag2.otel.traceparent"
"""The ``context.dependencies`` key by which AG2's network relays the triggering envelope's traceparent."""

_W3C = TraceContextTextMapPropagator()


def envelope_parent(context: Any) -> OtelContext | None:
    """The hub envelope that triggered this turn, as a parent context, when AG2's network relays one."""
    traceparent = (getattr(context, "dependencies", None) or {}).get(ENVELOPE_TRACEPARENT_KEY)
    return _W3C.extract({"traceparent": traceparent}) if isinstance(traceparent, str) else None


def _end_turn(turn: Turn, usage: Any, span: ActiveSpan) -> None:
    """The turn's token roll-up onto its span; a maintenance operation AG2 never closed ends with it."""
    usage.write(span)
    if turn.operation is not None:
        end_span(turn.operation)
        turn.operation = None


def tool_call_attributes(name: str, call_id: Any, agent_name: str) -> dict[str, Any]:
    """The attributes of an ``execute_tool`` span of one tool call the model made."""
    return {
        attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_TOOL,
        attr.GEN_AI_OPERATION_NAME: attr.OPERATION_EXECUTE_TOOL,
        attr.GEN_AI_TOOL_NAME: name,
        attr.GEN_AI_TOOL_CALL_ID: call_id,
        attr.GEN_AI_TOOL_TYPE: "function",
        attr.GEN_AI_AGENT_NAME: agent_name,
    }


class AgentSpans:
    """Describes and finishes the spans of an agent's turn, its tools and its human input."""

    def __init__(self, telemetry: TracingSession) -> None:
        self.telemetry = telemetry

    # invoke_agent {agent}: INTERNAL, or CLIENT when the turn is a remote agent's call (A2A)
    def turn(self, turn: Turn, args: tuple, kwargs: dict) -> SpanStart | None:
        """The span of a turn started from ``args`` = ``(event, context)``."""
        agent, config, (event, context) = turn.agent, turn.config, args
        attributes: dict[str, Any] = {
            attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_AGENT,
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_INVOKE_AGENT,
            attr.GEN_AI_AGENT_NAME: agent.name,
            **turn.model_attributes,
        }
        card_url = remote_card_url(config)
        if card_url is not None:
            attributes.update(remote_attributes(card_url))
        usage = new_usage()
        start = SpanStart(
            f"invoke_agent {agent.name}",
            attributes,
            SpanKind.INTERNAL if card_url is None else SpanKind.CLIENT,
            conversation_id=turn.conversation_id,
            agent=agent,
            context_values={USAGE: usage, REMOTE_SPAN: None if card_url is None else STARTED_SPAN, TURN: turn},
            parent=envelope_parent(context),
            measure=Measure.AGENT if card_url is None else Measure.CLIENT_OPERATION,  # a remote call: as classic
            event_name=attr.EVENT_AGENT_DETAILS,
            on_end=lambda span: _end_turn(turn, usage, span),
            adoptable=turn.ag2_traced,
        )
        if self.telemetry.capture_content:
            start.content[attr.GEN_AI_INPUT_MESSAGES] = turn_input_json(event)
        return start

    def turn_result(self, span: ActiveSpan, reply: Any) -> None:
        """The turn's final answer as content (only while capture is on)."""
        if self.telemetry.capture_content:
            span.set_content(attr.GEN_AI_OUTPUT_MESSAGES, reply_json(reply.response))

    def tool(self, middleware: Any, args: tuple, kwargs: dict) -> SpanStart | None:
        call = args[0]
        attributes = tool_call_attributes(call.name, call.id, middleware.turn.agent.name)
        description = middleware.tool_description(call.name)
        if description:
            attributes[attr.GEN_AI_TOOL_DESCRIPTION] = description
        start = SpanStart(
            f"execute_tool {call.name}",
            attributes,
            measure=Measure.TOOL,
            event_name=attr.EVENT_TOOL_DETAILS,
            adoptable=middleware.turn.ag2_traced,
        )
        if self.telemetry.capture_content:
            start.content[attr.GEN_AI_TOOL_CALL_ARGUMENTS] = as_text(call.arguments)
        return start

    def tool_result(self, span: ActiveSpan, result: Any) -> None:
        """A failed tool's real exception (AG2 hands it back inside a ``ToolErrorEvent``), or its result."""
        error = getattr(result, "error", None)
        if isinstance(error, BaseException):
            if span.adopted:  # AG2's own span records the exception itself; the type is ours to add
                span.set_attribute(attr.ERROR_TYPE, fq_exception_type(error))
            else:
                span.fail_with(error)
        elif self.telemetry.capture_content and getattr(result, "result", None) is not None:
            span.set_content(attr.GEN_AI_TOOL_CALL_RESULT, tool_result_text(result))

    def human_input(self, middleware: Any, args: tuple, kwargs: dict) -> SpanStart | None:
        request = args[0]
        agent_name = middleware.turn.agent.name
        attributes: dict[str, Any] = {
            attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_HUMAN_INPUT,
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_HUMAN_INPUT,
            attr.GEN_AI_AGENT_NAME: agent_name,
        }
        start = SpanStart(
            f"await_human_input {agent_name}",
            attributes,
            event_name=attr.EVENT_HUMAN_INPUT_DETAILS,
            adoptable=middleware.turn.ag2_traced,
        )
        if self.telemetry.capture_content:
            start.content[attr.AG2_HUMAN_INPUT_PROMPT] = as_text(getattr(request, "content", ""))
        return start

    def human_reply(self, span: ActiveSpan, reply: Any) -> None:
        """The human's answer as content (installed only while capture is on)."""
        span.set_content(attr.AG2_HUMAN_INPUT_RESPONSE, as_text(getattr(reply, "content", reply)))
