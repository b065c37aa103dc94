"""What an AG2 1.x ``ModelConfig`` says: provider, model, endpoint and request parameters."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from opentelemetry_instrumentation_ag2 import attributes as attr

MODEL_CONFIG_KEY = "__ag2_model_config__"
"""The ``context.dependencies`` key under which AG2 keeps the turn's config (``ag2.utils``)."""

_REQUEST_PARAMETERS = (
    ("temperature", attr.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", attr.GEN_AI_REQUEST_TOP_P),
    ("max_tokens", attr.GEN_AI_REQUEST_MAX_TOKENS),
    ("max_completion_tokens", attr.GEN_AI_REQUEST_MAX_TOKENS),
    ("max_output_tokens", attr.GEN_AI_REQUEST_MAX_TOKENS),
    ("presence_penalty", attr.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("frequency_penalty", attr.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("seed", attr.GEN_AI_REQUEST_SEED),
    ("stop", attr.GEN_AI_REQUEST_STOP_SEQUENCES),
)


OPENAI_CONFIGS = "ag2.config.openai"


def goes_through_openai_sdk(config: Any) -> bool:
    """Whether a config's client calls the ``openai`` SDK (what openai-v2 traces): AG2's OpenAI configs and the
    configs built on them."""
    return any(klass.__module__.startswith(OPENAI_CONFIGS) for klass in type(config).__mro__)


def _read(config: Any, name: str) -> Any:
    try:
        return getattr(config, name, None)
    except Exception:  # e.g. TestConfig raises NotImplementedError for a provider it was not given
        return None


def provider_name(provider: Any) -> str | None:
    """``gen_ai.provider.name`` of an AG2 ``ModelProvider`` (or its string)."""
    value = getattr(provider, "value", provider)
    if not isinstance(value, str) or not value:
        return None
    return attr.PROVIDER_BY_API_TYPE.get(value, value)


def _parameter(value: Any) -> Any:
    """A request parameter as an attribute value, or ``None`` for unset ones (``omit``, ``NOT_GIVEN``)."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return value
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return value
    return None


def model_attributes(config: Any) -> dict[str, Any]:
    """Provider and request model a config names (empty for no config)."""
    if config is None:
        return {}
    found: dict[str, Any] = {}
    provider = provider_name(_read(config, "provider"))
    if provider:
        found[attr.GEN_AI_PROVIDER_NAME] = provider
    model = _read(config, "model")
    if isinstance(model, str) and model:
        found[attr.GEN_AI_REQUEST_MODEL] = model
    return found


_SDK_DEFAULT_BASE_URLS = {
    "ag2.config.openai": ("OPENAI_BASE_URL", "https://api.openai.com/v1"),
    "ag2.config.anthropic": ("ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
}
"""Where the SDK behind AG2's own configs of a provider (by module) sends a client made without ``base_url``:
its variable, else its public endpoint."""


def default_base_url(config: Any) -> str | None:
    """The endpoint one of AG2's own configs without ``base_url`` reaches, as its provider's SDK decides it."""
    module = type(config).__module__
    for package, (variable, public) in _SDK_DEFAULT_BASE_URLS.items():
        if module == package or module.startswith(package + "."):
            return os.environ.get(variable) or public
    return None


def request_attributes(config: Any) -> dict[str, Any]:
    """Endpoint and request parameters a config sets (AG2's ``omit`` sentinels are skipped)."""
    if config is None:
        return {}
    found: dict[str, Any] = {}
    base_url = _read(config, "base_url") or default_base_url(config)
    if isinstance(base_url, str) and base_url:
        parts = urlsplit(base_url)
        if parts.hostname:
            found[attr.SERVER_ADDRESS] = parts.hostname
            found[attr.SERVER_PORT] = parts.port or {"https": 443, "http": 80}.get(parts.scheme, 443)
    for name, key in _REQUEST_PARAMETERS:
        value = _parameter(_read(config, name))
        if value is not None and key not in found:
            found[key] = value
    if isinstance(found.get(attr.GEN_AI_REQUEST_STOP_SEQUENCES), str):
        found[attr.GEN_AI_REQUEST_STOP_SEQUENCES] = [found[attr.GEN_AI_REQUEST_STOP_SEQUENCES]]
    return found
