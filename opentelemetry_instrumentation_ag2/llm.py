"""``chat {model}`` spans around AG2's LLM client, ``OpenAIWrapper.create``."""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import Span, SpanKind

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.content import message_parts, messages_json, text
from opentelemetry_instrumentation_ag2.models import config_value, provider_name, server_of
from opentelemetry_instrumentation_ag2.patching import Patch
from opentelemetry_instrumentation_ag2.spans import SpanStart, Telemetry

CLIENT_MODULE = "autogen.oai.client"

_REQUEST_PARAMETERS = (
    ("temperature", attr.GEN_AI_REQUEST_TEMPERATURE),
    ("max_tokens", attr.GEN_AI_REQUEST_MAX_TOKENS),
    ("top_p", attr.GEN_AI_REQUEST_TOP_P),
)


class LLMSpans:
    """Describes and finishes ``chat {model}`` spans."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry

    def chat(self, wrapper: Any, args: tuple, kwargs: dict) -> SpanStart:
        config_list = getattr(wrapper, "_config_list", None) or [{}]
        entry = config_list[0]
        model = kwargs.get("model") or config_value(entry, "model")
        attributes: dict[str, Any] = {
            attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_LLM,
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_CHAT,
            attr.GEN_AI_PROVIDER_NAME: provider_name(config_value(entry, "api_type")),
        }
        if model:
            attributes[attr.GEN_AI_REQUEST_MODEL] = model
        agent = kwargs.get("agent")
        if agent is not None and getattr(agent, "name", None):
            attributes[attr.GEN_AI_AGENT_NAME] = agent.name
        host, port = server_of(_base_url(wrapper))
        if host:
            attributes[attr.SERVER_ADDRESS] = host
            attributes[attr.SERVER_PORT] = port
        for key, name in _REQUEST_PARAMETERS:
            value = kwargs.get(key, config_value(entry, key))
            if value is not None:
                attributes[name] = value
        if self.telemetry.settings.content_on_spans and kwargs.get("messages"):
            attributes[attr.GEN_AI_INPUT_MESSAGES] = messages_json(kwargs["messages"])
        return SpanStart(f"chat {model}" if model else "chat", attributes, SpanKind.CLIENT)

    def response(self, span: Span, response: Any) -> None:
        model = getattr(response, "model", None)
        if model:
            span.set_attribute(attr.GEN_AI_RESPONSE_MODEL, model)
        response_id = getattr(response, "id", None)
        if response_id:
            span.set_attribute(attr.GEN_AI_RESPONSE_ID, response_id)
        usage = getattr(response, "usage", None)
        if usage is not None:
            if getattr(usage, "prompt_tokens", None) is not None:
                span.set_attribute(attr.GEN_AI_USAGE_INPUT_TOKENS, usage.prompt_tokens)
            if getattr(usage, "completion_tokens", None) is not None:
                span.set_attribute(attr.GEN_AI_USAGE_OUTPUT_TOKENS, usage.completion_tokens)
        choices = getattr(response, "choices", None) or ()
        reasons = [str(choice.finish_reason) for choice in choices if getattr(choice, "finish_reason", None)]
        if reasons:
            span.set_attribute(attr.GEN_AI_RESPONSE_FINISH_REASONS, reasons)
        cost = getattr(response, "cost", None)
        if isinstance(cost, (int, float)):
            span.set_attribute(attr.AG2_USAGE_COST, float(cost))
        if self.telemetry.settings.content_on_spans and choices:
            span.set_attribute(attr.GEN_AI_OUTPUT_MESSAGES, _choices_json(choices))


def _base_url(wrapper: Any) -> Any:
    """The endpoint of the wrapper's first client (AG2 moves ``base_url`` out of the config into the client)."""
    clients = getattr(wrapper, "_clients", None)
    client = getattr(clients[0], "_oai_client", None) if clients else None
    return getattr(client, "base_url", None)


def _choices_json(choices: Any) -> str:
    outputs = []
    for choice in choices:
        message = getattr(choice, "message", None)
        dumped = message.model_dump(exclude_none=True) if hasattr(message, "model_dump") else {"content": message}
        outputs.append(
            {
                "role": "assistant",
                "parts": message_parts(dumped),
                "finish_reason": getattr(choice, "finish_reason", None),
            }
        )
    return text(outputs)


def llm_patches(telemetry: Telemetry) -> list[Patch]:
    """The patch that traces every LLM call AG2 makes."""
    spans = LLMSpans(telemetry)
    return [Patch(CLIENT_MODULE, "OpenAIWrapper.create", telemetry.traced(spans.chat, spans.response))]
