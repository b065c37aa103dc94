"""What both AG2 lines read the same way in a model request: the provider's name and the request parameters."""

from __future__ import annotations

from typing import Any

from opentelemetry_instrumentation_ag2 import attributes as attr

REQUEST_PARAMETERS: tuple[tuple[str, str], ...] = (
    ("temperature", attr.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", attr.GEN_AI_REQUEST_TOP_P),
    ("max_tokens", attr.GEN_AI_REQUEST_MAX_TOKENS),
    ("max_completion_tokens", attr.GEN_AI_REQUEST_MAX_TOKENS),
    ("max_output_tokens", attr.GEN_AI_REQUEST_MAX_TOKENS),
    ("presence_penalty", attr.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("frequency_penalty", attr.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("seed", attr.GEN_AI_REQUEST_SEED),
    ("stop", attr.GEN_AI_REQUEST_STOP_SEQUENCES),
    ("n", attr.GEN_AI_REQUEST_CHOICE_COUNT),
)
"""Request parameter name -> ``gen_ai.request.*`` key; where several name one key, the first set wins."""


def provider_name(provider: Any, default: str | None = None) -> str | None:
    """``gen_ai.provider.name`` of an AG2 provider (an ``api_type`` string or a 1.x ``ModelProvider``), the
    conventions' well-known value where there is one; ``default`` when none is named."""
    value = getattr(provider, "value", provider)
    if not isinstance(value, str) or not value:
        return default
    return attr.PROVIDER_BY_API_TYPE.get(value, value)
