"""``chat {model}`` spans around AG2's LLM client, ``OpenAIWrapper.create``, with usage metrics and roll-ups."""

from __future__ import annotations

import functools
import logging
import weakref
from typing import Any, NamedTuple

from opentelemetry.trace import SpanKind

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.classic import modules
from opentelemetry_instrumentation_ag2.classic.models import (
    DEFAULT_PROVIDER,
    answered_by,
    call_parameters,
    client_base_url,
    config_entry,
    config_value,
    first_tried,
    request_parameters,
    server_of,
)
from opentelemetry_instrumentation_ag2.classic.response_cache import CacheWatch, watch_cache
from opentelemetry_instrumentation_ag2.content import (
    as_text,
    message_parts,
    messages_json,
    new_input,
    outputs_json,
    parts_json,
)
from opentelemetry_instrumentation_ag2.genai_interop import inference_scope, openai_v2_traces
from opentelemetry_instrumentation_ag2.model_request import provider_name
from opentelemetry_instrumentation_ag2.patching import Patch
from opentelemetry_instrumentation_ag2.signals import Measure
from opentelemetry_instrumentation_ag2.spans import ActiveSpan, SpanStart, TracingSession
from opentelemetry_instrumentation_ag2.usage import current_usage

logger = logging.getLogger(__name__)

CLIENT_MODULE = modules.LLM_CLIENT


def _goes_through_openai_sdk(wrapper: Any) -> bool:
    """Whether this ``OpenAIWrapper``'s call goes through the ``openai`` SDK (what openai-v2 traces)."""
    clients = getattr(wrapper, "_clients", None) or ()
    return bool(clients) and hasattr(clients[0], "_oai_client")


def _system_instructions(messages: list[Any]) -> str | None:
    """The system messages' parts as ``gen_ai.system_instructions`` JSON, or ``None`` when there are none."""
    system = [m for m in messages if isinstance(m, dict) and m.get("role") == "system"]
    return parts_json(part for message in system for part in message_parts(message)) if system else None


class LLMCall(NamedTuple):
    """What a ``chat`` span's finish needs of the call: its wrapper, and a watch on its cache if it has one."""

    wrapper: Any
    cache: CacheWatch | None


class LLMSpans:
    """Describes and finishes ``chat {model}`` spans."""

    def __init__(self, telemetry: TracingSession) -> None:
        self.telemetry = telemetry
        self._entry_attributes: weakref.WeakKeyDictionary[Any, dict[int, dict[str, Any]]] = weakref.WeakKeyDictionary()

    def entry_attributes(self, wrapper: Any, index: int = 0) -> dict[str, Any]:
        """The attributes one of a wrapper's config entries and its client fix for the wrapper's life
        (provider, server, model and request parameters as configured), read once per entry."""
        entries = self._entry_attributes.get(wrapper)
        if entries is None:
            entries = self._entry_attributes[wrapper] = {}
        fixed = entries.get(index)
        if fixed is None:
            entry = config_entry(wrapper, index)
            fixed = {
                attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_LLM,
                attr.GEN_AI_OPERATION_NAME: attr.OPERATION_CHAT,
                attr.GEN_AI_PROVIDER_NAME: provider_name(config_value(entry, "api_type"), DEFAULT_PROVIDER),
            }
            host, port = server_of(client_base_url(wrapper, index))
            if host:
                fixed[attr.SERVER_ADDRESS] = host
                fixed[attr.SERVER_PORT] = port
            fixed.update(request_parameters(functools.partial(config_value, entry)))
            entries[index] = fixed
        return fixed

    def chat(self, wrapper: Any, args: tuple, kwargs: dict) -> SpanStart:
        attributes = call_parameters(kwargs)
        index = first_tried(wrapper)
        entry = config_entry(wrapper, index)
        attributes.update(
            self.entry_attributes(wrapper, index)
        )  # AG2 sends a config entry's own settings over the call's
        attributes.setdefault(attr.GEN_AI_OUTPUT_TYPE, "text")  # what a chat gives unless a format asks for JSON
        agent = kwargs.get("agent")
        if agent is not None and getattr(agent, "name", None):
            attributes[attr.GEN_AI_AGENT_NAME] = agent.name
        model = attributes.get(attr.GEN_AI_REQUEST_MODEL)
        start = SpanStart(
            f"chat {model}" if model else "chat",
            attributes,
            SpanKind.CLIENT,
            context_values=inference_scope() or {},
            measure=Measure.CLIENT_OPERATION,
            event_name=attr.EVENT_INFERENCE_DETAILS,
            call=LLMCall(wrapper, watch_cache(wrapper, kwargs, entry)),
        )
        messages = kwargs.get("messages")
        if self.telemetry.capture_content and messages:
            start.content[attr.GEN_AI_INPUT_MESSAGES] = messages_json(new_input(messages))
            system = _system_instructions(messages)
            if system:
                start.content[attr.GEN_AI_SYSTEM_INSTRUCTIONS] = system
            configured_tools = config_value(entry, "tools") or ()
            tools = [*(kwargs.get("tools") or ()), *configured_tools]  # both, as AG2 merges them
            if tools:
                start.content[attr.GEN_AI_TOOL_DEFINITIONS] = as_text(tools)
        return start

    def response(self, span: ActiveSpan, response: Any) -> None:
        call: LLMCall = span.call
        if len(getattr(call.wrapper, "_clients", None) or ()) > 1:
            self._describe_answering_entry(span, call.wrapper, response)
        from_cache = call.cache.answered_from_cache() if call.cache is not None else None
        usage = getattr(response, "usage", None)
        input_tokens, output_tokens, cost = used = response_usage(response)
        choices = getattr(response, "choices", None) or ()
        prompt_details = getattr(usage, "prompt_tokens_details", None)
        completion_details = getattr(usage, "completion_tokens_details", None)
        found = {
            attr.GEN_AI_RESPONSE_MODEL: getattr(response, "model", None),
            attr.GEN_AI_RESPONSE_ID: getattr(response, "id", None),
            attr.GEN_AI_USAGE_INPUT_TOKENS: input_tokens,
            attr.GEN_AI_USAGE_OUTPUT_TOKENS: output_tokens,
            attr.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: getattr(prompt_details, "cached_tokens", None),
            attr.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: getattr(completion_details, "reasoning_tokens", None),
            attr.GEN_AI_RESPONSE_FINISH_REASONS: [
                str(choice.finish_reason) for choice in choices if getattr(choice, "finish_reason", None)
            ],
            attr.AG2_USAGE_COST: cost,
            attr.AG2_CACHE_HIT: from_cache,
        }
        span.set_attributes({key: value for key, value in found.items() if value is not None and value != []})
        if not from_cache:  # an answer from AG2's cache spent no tokens
            self.telemetry.signals.record_tokens(span.attributes, input_tokens, output_tokens)
            add_to_rollup(used)
        if self.telemetry.capture_content and choices:
            span.set_content(attr.GEN_AI_OUTPUT_MESSAGES, _choices_json(choices))

    def _describe_answering_entry(self, span: ActiveSpan, wrapper: Any, response: Any) -> None:
        """After a fallback to a later config entry, describe the entry that answered, not the one tried
        first. (A request parameter configured only on the entry tried first stays: span attributes
        cannot be removed.)"""
        index = answered_by(wrapper, response)
        if index is None:
            return
        fixed = self.entry_attributes(wrapper, index)
        changed = {key: value for key, value in fixed.items() if span.attributes.get(key) != value}
        if changed:
            span.set_attributes(changed)
        if attr.GEN_AI_REQUEST_MODEL in changed:
            span.rename(f"chat {changed[attr.GEN_AI_REQUEST_MODEL]}")


ResponseUsage = tuple[int | None, int | None, float | None]
"""A response's input tokens, output tokens and cost (AG2's estimate), each ``None`` when not given."""


def response_usage(response: Any) -> ResponseUsage:
    """A response's ``ResponseUsage``, read once for its span and its roll-up."""
    usage = getattr(response, "usage", None)
    cost = getattr(response, "cost", None)
    return (
        getattr(usage, "prompt_tokens", None),
        getattr(usage, "completion_tokens", None),
        float(cost) if isinstance(cost, (int, float)) else None,
    )


def add_to_rollup(used: ResponseUsage) -> None:
    """Count a response's ``ResponseUsage`` in the enclosing conversations' roll-ups."""
    rollup = current_usage()
    if rollup is not None:
        rollup.add(*used)


def _choices_json(choices: Any) -> str | None:
    """A response's choices as ``gen_ai.output.messages`` JSON."""

    def reply(message: Any) -> Any:
        return message.model_dump(exclude_none=True) if hasattr(message, "model_dump") else {"content": message}

    return outputs_json(
        (reply(getattr(choice, "message", None)), getattr(choice, "finish_reason", None)) for choice in choices
    )


def llm_patches(telemetry: TracingSession) -> list[Patch]:
    """The patch that traces every LLM call AG2 makes."""
    spans = LLMSpans(telemetry)
    traced = telemetry.traced(spans.chat, spans.response)

    def create(wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not openai_v2_traces(_goes_through_openai_sdk(instance)):
            return traced(wrapped, instance, args, kwargs)
        try:
            cache = watch_cache(instance, kwargs)
        except Exception:
            logger.debug("ag2 instrumentation failed to watch the response cache", exc_info=True)
            cache = None
        response = wrapped(*args, **kwargs)  # openai-v2's span is the call's one span; the roll-up is still ours
        try:
            if cache is None or not cache.answered_from_cache():
                add_to_rollup(response_usage(response))
        except Exception:
            logger.debug("ag2 instrumentation failed to count a response", exc_info=True)
        return response

    return [Patch(CLIENT_MODULE, "OpenAIWrapper.create", create)]
