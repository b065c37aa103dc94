"""Which provider and model an AG2 LLM configuration points at."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from opentelemetry_instrumentation_ag2.attributes import PROVIDER_BY_API_TYPE


def _get(entry: Any, key: str) -> Any:
    return entry.get(key) if isinstance(entry, dict) else getattr(entry, key, None)


def provider_name(api_type: str | None) -> str:
    """``gen_ai.provider.name`` for an AG2 ``api_type`` (AG2 defaults to OpenAI)."""
    if not api_type:
        return "openai"
    return PROVIDER_BY_API_TYPE.get(api_type, api_type)


def first_config(llm_config: Any) -> Any:
    """The first entry of an agent's or wrapper's config list, if any."""
    if not llm_config:
        return None
    config_list = _get(llm_config, "config_list")
    if config_list:
        return config_list[0]
    return llm_config if _get(llm_config, "model") else None


def config_value(entry: Any, key: str) -> Any:
    """A key of a config entry, dict or pydantic."""
    return None if entry is None else _get(entry, key)


def server_of(base_url: Any) -> tuple[str | None, int | None]:
    """``server.address`` and ``server.port`` of a model endpoint's base URL."""
    if not base_url:
        return None, None
    parts = urlsplit(str(base_url))
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.hostname, port
