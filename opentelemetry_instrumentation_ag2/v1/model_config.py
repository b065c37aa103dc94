"""What an AG2 1.x ``ModelConfig`` says: provider, model, endpoint and request parameters."""

from __future__ import annotations

import functools
import os
from typing import Any

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.endpoints import url_endpoint
from opentelemetry_instrumentation_ag2.model_request import REQUEST_PARAMETERS, provider_name

MODEL_CONFIG_KEY = "__ag2_model_config__"
"""The ``context.dependencies`` key under which AG2 keeps the turn's config (``ag2.utils``)."""


OPENAI_CONFIGS = "ag2.config.openai"


def goes_through_openai_sdk(config: Any) -> bool:
    """Whether a config's client calls the ``openai`` SDK (what openai-v2 traces): AG2's OpenAI configs and the
    configs built on them."""
    return _openai_config_class(type(config))


@functools.cache
def _openai_config_class(config_class: type) -> bool:
    return any(klass.__module__.startswith(OPENAI_CONFIGS) for klass in config_class.__mro__)


def _read(config: Any, name: str) -> Any:
    try:
        return getattr(config, name, None)
    except Exception:  # e.g. TestConfig raises NotImplementedError for a provider it was not given
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


@functools.cache
def _sdk_default(config_class: type) -> tuple[str, str] | None:
    """The variable and public endpoint of the SDK behind one of AG2's own config classes, ``None`` for others."""
    module = config_class.__module__
    for package, default in _SDK_DEFAULT_BASE_URLS.items():
        if module == package or module.startswith(package + "."):
            return default
    return None


def default_base_url(config: Any) -> str | None:
    """The endpoint one of AG2's own configs without ``base_url`` reaches, as its provider's SDK decides it."""
    default = _sdk_default(type(config))
    return (os.environ.get(default[0]) or default[1]) if default is not None else None


def request_attributes(config: Any) -> dict[str, Any]:
    """Endpoint and request parameters a config sets (AG2's ``omit`` sentinels are skipped)."""
    if config is None:
        return {}
    found: dict[str, Any] = {}
    base_url = _read(config, "base_url") or default_base_url(config)
    if isinstance(base_url, str) and base_url:
        host, port = url_endpoint(base_url)
        if host:
            found[attr.SERVER_ADDRESS] = host
            if port:
                found[attr.SERVER_PORT] = port
    for name, key in REQUEST_PARAMETERS:
        try:  # inline rather than ``_read``: a turn reads every parameter of its config
            value = getattr(config, name, None)
        except Exception:
            continue
        # a number, a text or texts; not AG2's ``omit`` or another unset marker
        if (isinstance(value, (int, float, str)) and not isinstance(value, bool)) or (
            isinstance(value, list) and value and all(isinstance(item, str) for item in value)
        ):
            found.setdefault(key, value)
    if isinstance(found.get(attr.GEN_AI_REQUEST_STOP_SEQUENCES), str):
        found[attr.GEN_AI_REQUEST_STOP_SEQUENCES] = [found[attr.GEN_AI_REQUEST_STOP_SEQUENCES]]
    return found
