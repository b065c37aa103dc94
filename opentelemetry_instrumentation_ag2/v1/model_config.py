"""What an AG2 1.x ``ModelConfig`` says: provider, model, endpoint and request parameters."""

from __future__ import annotations

import dataclasses
import functools
import operator
import os
from collections.abc import Callable
from typing import Any

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.endpoints import url_host, url_port
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
        host, port = url_host(base_url), url_port(base_url)
        if host:
            found[attr.SERVER_ADDRESS] = host
            if port:
                found[attr.SERVER_PORT] = port
    for name, key in REQUEST_PARAMETERS:
        value = _parameter(_read(config, name))
        if value is not None and key not in found:
            found[key] = value
    if isinstance(found.get(attr.GEN_AI_REQUEST_STOP_SEQUENCES), str):
        found[attr.GEN_AI_REQUEST_STOP_SEQUENCES] = [found[attr.GEN_AI_REQUEST_STOP_SEQUENCES]]
    return found


_MAX_REMEMBERED = 64
_remembered: dict[int, tuple[type, Any, tuple[str, str | None] | None, dict[str, Any], dict[str, Any]]] = {}
"""By config ``id``: its class and field values when last described, the endpoint variable its SDK read then (and
its value; ``None`` when the config sets ``base_url``), and what was read."""


@functools.cache
def _field_reader(config_class: type) -> Callable[[Any], Any] | None:
    """Reads every field of a dataclass config in one call (AG2's configs are slotted dataclasses); ``None`` for
    a config class that is not one."""
    if not dataclasses.is_dataclass(config_class):
        return None
    names = [field.name for field in dataclasses.fields(config_class)]
    return operator.attrgetter(*names) if names else None


def described_model(config: Any) -> dict[str, Any]:
    """:func:`model_attributes` of a config, read once while the config stays as it is (not to be mutated)."""
    known = _known(config)
    return known[0] if known is not None else model_attributes(config)


def described_request(config: Any) -> dict[str, Any]:
    """:func:`model_attributes` and :func:`request_attributes` of a config together, read once while the config stays
    as it is (not to be mutated)."""
    known = _known(config)
    return known[1] if known is not None else {**model_attributes(config), **request_attributes(config)}


def _known(config: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """What a dataclass config (AG2's configs are) says, read again only when one of its fields, or the endpoint
    variable its SDK reads where it sets no ``base_url``, has changed since; ``None`` for a config that is not a
    dataclass."""
    values = _field_values(config)
    if values is None:
        return None
    known = _remembered.get(id(config))
    if (
        known is not None
        and known[0] is type(config)
        and _same(known[1], values)
        and (known[2] is None or os.environ.get(known[2][0]) == known[2][1])
    ):
        return known[3], known[4]
    default = _sdk_default(type(config))
    variable = default[0] if default is not None and not _read(config, "base_url") else None
    endpoint = (variable, os.environ.get(variable)) if variable else None
    model = model_attributes(config)
    request = {**model, **request_attributes(config)}
    if len(_remembered) >= _MAX_REMEMBERED:
        _remembered.clear()
    _remembered[id(config)] = (type(config), values, endpoint, model, request)
    return model, request


def _field_values(config: Any) -> tuple | None:
    """Every field value of a dataclass config, ``None`` for another config or one whose fields cannot be read."""
    reader = _field_reader(type(config))
    if reader is None:
        return None
    try:
        return (reader(config),)
    except Exception:
        return None


def _same(known: Any, values: Any) -> bool:
    """Whether a config's field values are still those it was described with (a value that cannot say: no)."""
    try:
        return bool(known == values)
    except Exception:
        return False
