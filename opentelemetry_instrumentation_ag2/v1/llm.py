"""``chat {model}`` spans around every LLM call of an AG2 1.x turn, whatever the provider's client.

The span is made at the innermost ``on_llm_call`` of the turn, i.e. right around the ``LLMClient``
call itself (OpenAI, Anthropic, Gemini, Ollama, ``ag2.testing.TestConfig`` ...), streaming included:
a streamed reply is one call that ends when the client has assembled the ``ModelResponse``. A remote
agent's call (A2A) makes none: its turn's CLIENT ``invoke_agent`` span is that call (:mod:`.a2a_client`).
"""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind
from opentelemetry.util.genai.types import Text

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.content import parts_json
from opentelemetry_instrumentation_ag2.genai_interop import openai_v2_traces
from opentelemetry_instrumentation_ag2.signals import Measure
from opentelemetry_instrumentation_ag2.spans import NO_SPAN, ActiveSpan, SpanStart, TracingSession
from opentelemetry_instrumentation_ag2.usage import current_usage
from opentelemetry_instrumentation_ag2.v1.a2a_client import remote_card_url
from opentelemetry_instrumentation_ag2.v1.messages import call_input_json, reply_json
from opentelemetry_instrumentation_ag2.v1.model_config import goes_through_openai_sdk, provider_name
from opentelemetry_instrumentation_ag2.v1.tool_schemas import tool_definitions

TOKENS_ONLY = object()
"""``SpanStart.call`` of an LLM call another instrumentation makes the span of: its tokens still roll up."""


def token_count(value: Any) -> int | None:
    """AG2 normalises token counts to floats; the conventions want integers."""
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class LLMSpans:
    """Describes and finishes ``chat`` spans."""

    def __init__(self, telemetry: TracingSession) -> None:
        self.telemetry = telemetry

    def chat(self, middleware: Any, args: tuple, kwargs: dict) -> SpanStart | None:
        events, context = args
        config = middleware.turn.config
        if remote_card_url(config):
            return None
        if openai_v2_traces(goes_through_openai_sdk(config)):
            # openai-v2's span is the call's one span: ours makes none, and only counts its tokens for the turn
            return SpanStart("chat", {}, adopt=NO_SPAN, call=TOKENS_ONLY)
        attributes = {
            attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_LLM,
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_CHAT,
            attr.GEN_AI_AGENT_NAME: middleware.turn.agent.name,
            **middleware.llm_attributes(),
        }
        model = attributes.get(attr.GEN_AI_REQUEST_MODEL)
        start = SpanStart(
            f"chat {model}" if model else "chat",
            attributes,
            SpanKind.CLIENT,
            measure=Measure.CLIENT_OPERATION,
            event_name=attr.EVENT_INFERENCE_DETAILS,
            adoptable=middleware.turn.ag2_traced,
        )
        if self.telemetry.capture_content:
            start.content[attr.GEN_AI_INPUT_MESSAGES] = call_input_json(events)
            prompt = [fragment for fragment in getattr(context, "prompt", None) or () if isinstance(fragment, str)]
            if prompt:
                start.content[attr.GEN_AI_SYSTEM_INSTRUCTIONS] = parts_json(map(Text, prompt))
            definitions = tool_definitions(middleware.tool_schemas)
            if definitions:
                start.content[attr.GEN_AI_TOOL_DEFINITIONS] = definitions
        return start

    def response(self, span: ActiveSpan, response: Any) -> None:
        usage = getattr(response, "usage", None)
        input_tokens = token_count(getattr(usage, "prompt_tokens", None))
        output_tokens = token_count(getattr(usage, "completion_tokens", None))
        rollup = current_usage()
        if rollup is not None and (input_tokens is not None or output_tokens is not None):
            rollup.add(input_tokens, output_tokens, None)
        if span.call is TOKENS_ONLY:
            return
        finish_reason = getattr(response, "finish_reason", None)
        found: dict[str, Any] = {
            attr.GEN_AI_RESPONSE_MODEL: getattr(response, "model", None),
            attr.GEN_AI_RESPONSE_ID: getattr(response, "response_id", None),
            attr.GEN_AI_USAGE_INPUT_TOKENS: input_tokens,
            attr.GEN_AI_USAGE_OUTPUT_TOKENS: output_tokens,
            attr.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: token_count(getattr(usage, "cache_read_input_tokens", None)),
            attr.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: token_count(getattr(usage, "thinking_tokens", None)),
            attr.GEN_AI_RESPONSE_FINISH_REASONS: [str(finish_reason)] if finish_reason else None,
        }
        if attr.GEN_AI_PROVIDER_NAME not in span.attributes:  # the config did not say; the client may
            found[attr.GEN_AI_PROVIDER_NAME] = provider_name(getattr(response, "provider", None))
        span.set_attributes({key: value for key, value in found.items() if value is not None})
        self.telemetry.signals.record_tokens(span.attributes, input_tokens, output_tokens)
        if self.telemetry.capture_content:
            reason = str(finish_reason) if finish_reason else None
            span.set_content(attr.GEN_AI_OUTPUT_MESSAGES, reply_json(response, reason))
