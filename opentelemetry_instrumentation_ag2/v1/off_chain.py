"""What an AG2 1.x turn does beside its middleware chain, seen in the events AG2 sends on the turn's stream.

Compaction and aggregation call their own model client directly, outside ``on_llm_call``; AG2 marks each such
call only by the ``UsageEvent`` it sends right after it (``kind="compaction"`` / ``"aggregation"``), and
brackets the work with ``CompactionStarted`` ... ``CompactionCompleted`` / ``Failed`` (and the same for
aggregation). A tool the model names that the agent lacks is answered by a ``ToolNotFoundEvent`` that no
middleware sees. One class-level patch on ``ConversationContext.send`` watches for these few event types
(a type lookup per event) while a traced turn is current, and makes:

* an operation span ``compaction {agent}`` / ``aggregation {agent}`` from the start event to the end event;
* a ``chat {model}`` span for each such model call, beneath the operation (or the turn), from the
  operation's start to AG2's usage record, with the model, provider and endpoint of the strategy's own
  config and the tokens AG2 counted, which roll up into the turn like any other call's;
* an ``execute_tool {name}`` span, ERROR with ``error.type``, for a tool the agent lacks.

``model_call`` records are the turn's own calls (already ``chat`` spans); ``subtask`` records roll up a
sub-agent whose own turn is traced beneath the tool that ran it, its tokens with it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ag2.events import (
    AggregationCompleted,
    AggregationFailed,
    AggregationStarted,
    CompactionCompleted,
    CompactionFailed,
    CompactionStarted,
    ToolNotFoundEvent,
    UsageEvent,
)
from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import SpanKind

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.signals import Measure
from opentelemetry_instrumentation_ag2.spans import SpanStart, TracingSession, end_span, mark_failed
from opentelemetry_instrumentation_ag2.usage import current_usage
from opentelemetry_instrumentation_ag2.v1.agents import tool_call_attributes
from opentelemetry_instrumentation_ag2.v1.llm import token_count
from opentelemetry_instrumentation_ag2.v1.model_config import model_attributes, provider_name, request_attributes
from opentelemetry_instrumentation_ag2.v1.turn_state import Turn, current_turn

logger = logging.getLogger(__name__)

AG2_USAGE_KIND = "ag2.usage.kind"
"""AG2's own attribute for what a usage record paid for (``compaction``, ``aggregation``, ...)."""
AG2_STRATEGY = "ag2.strategy"
"""The compaction or aggregation strategy's class name, as AG2's events name it."""
TRACED_IN_THE_CHAIN = ("model_call", "subtask")
"""Usage records whose calls are already ``chat`` spans: the turn's own, and a traced sub-agent's."""
STRATEGY_FIELD = {"compaction": "compact", "aggregation": "aggregate"}
"""``KnowledgeConfig`` field holding the strategy of each operation."""


def strategy_config(agent: Any, kind: str) -> Any:
    """The model config of the agent's compaction or aggregation strategy (AG2's built-in ones keep it)."""
    field_name = STRATEGY_FIELD.get(kind)
    if field_name is None:
        return None
    for factory in getattr(agent, "_middleware", None) or ():
        strategy = getattr(getattr(factory, "config", None), field_name, None)
        config = getattr(strategy, "_config", None)
        if config is not None:
            return config
    return None


class OffChainSpans:
    """Makes the spans of work AG2 announces on a traced turn's stream (see the module docstring)."""

    def __init__(self, telemetry: TracingSession) -> None:
        self.telemetry = telemetry
        self._handlers: dict[type, Callable[[Turn, Any], None]] = {
            UsageEvent: self.usage,
            ToolNotFoundEvent: self.missing_tool,
            CompactionStarted: self.operation_started,
            AggregationStarted: self.operation_started,
            CompactionCompleted: self.operation_ended,
            AggregationCompleted: self.operation_ended,
            CompactionFailed: self.operation_ended,
            AggregationFailed: self.operation_ended,
        }

    def send_wrapper(self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        """Wrapper of ``ConversationContext.send(event)``: looks, then sends as AG2 would."""
        handle = self._handlers.get(type(args[0])) if args else None
        if handle is not None and self.telemetry.enabled and is_instrumentation_enabled():
            turn = current_turn()
            if turn is not None:
                try:
                    handle(turn, args[0])
                except Exception:  # telemetry must never break the application
                    logger.debug("ag2 instrumentation failed to trace %s", type(args[0]).__name__, exc_info=True)
        return wrapped(*args, **kwargs)

    def _common(self, turn: Turn, span_type: str) -> dict[str, Any]:
        return {
            attr.AG2_SPAN_TYPE: span_type,
            attr.GEN_AI_AGENT_NAME: turn.agent.name,
            attr.GEN_AI_CONVERSATION_ID: turn.conversation_id,
        }

    def operation_started(self, turn: Turn, event: Any) -> None:
        kind = "compaction" if isinstance(event, CompactionStarted) else "aggregation"
        if turn.operation is not None:
            end_span(turn.operation)
        attributes = {**self._common(turn, kind), AG2_STRATEGY: str(getattr(event, "strategy", ""))}
        turn.operation_started = time.time_ns()
        turn.operation = self.telemetry.tracer.start_span(
            f"{kind} {turn.agent.name}", attributes=attributes, start_time=turn.operation_started
        )

    def operation_ended(self, turn: Turn, event: Any) -> None:
        span, turn.operation = turn.operation, None
        if span is None:
            return
        error_type = getattr(event, "error_type", None)
        if isinstance(error_type, str):
            mark_failed(span, error_type, f"{error_type}: {getattr(event, 'error', '')}")
        end_span(span)

    def usage(self, turn: Turn, event: Any) -> None:
        kind = event.kind
        if kind in TRACED_IN_THE_CHAIN:
            return
        attributes: dict[str, Any] = {
            **self._common(turn, attr.SPAN_TYPE_LLM),
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_CHAT,
            **model_attributes(strategy_config(turn.agent, kind)),
            **request_attributes(strategy_config(turn.agent, kind)),
            AG2_USAGE_KIND: kind,
        }
        provider = provider_name(event.provider)
        if provider and attr.GEN_AI_PROVIDER_NAME not in attributes:
            attributes[attr.GEN_AI_PROVIDER_NAME] = provider
        if event.model:
            attributes[attr.GEN_AI_RESPONSE_MODEL] = event.model
        input_tokens = token_count(event.usage.prompt_tokens)
        output_tokens = token_count(event.usage.completion_tokens)
        tokens = {attr.GEN_AI_USAGE_INPUT_TOKENS: input_tokens, attr.GEN_AI_USAGE_OUTPUT_TOKENS: output_tokens}
        attributes.update({key: value for key, value in tokens.items() if value is not None})
        model = attributes.get(attr.GEN_AI_REQUEST_MODEL) or event.model
        operation = turn.operation
        parent = trace.set_span_in_context(operation) if operation is not None else None
        started = turn.operation_started if operation is not None else time.time_ns()
        span = self.telemetry.tracer.start_span(
            f"chat {model}" if model else "chat", parent, SpanKind.CLIENT, attributes, start_time=started
        )
        end_span(span)
        rollup = current_usage()
        if rollup is not None:
            rollup.add(input_tokens, output_tokens, None)
        signals = self.telemetry.signals
        signals.record_duration(Measure.CLIENT_OPERATION, (time.time_ns() - started) / 1e9, attributes)
        signals.record_tokens(attributes, input_tokens, output_tokens)

    def _describe_missing_tool(self, turn: Turn, args: tuple, kwargs: dict) -> SpanStart:
        event = args[0]
        attributes = tool_call_attributes(event.name, event.parent_id, turn.agent.name)
        return SpanStart(f"execute_tool {event.name}", attributes, measure=Measure.TOOL, adoptable=turn.ag2_traced)

    def missing_tool(self, turn: Turn, event: Any) -> None:
        """A tool the agent lacks, which AG2 answers with the error at once: a failed ``execute_tool`` span."""
        active = self.telemetry.begin(self._describe_missing_tool, turn, (event,), {})
        if active is not None:
            with active:
                active.fail_with(event.error)
