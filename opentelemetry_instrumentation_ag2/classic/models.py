"""What an AG2 LLM configuration says: provider, model, endpoint, request parameters, and which entry answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.endpoints import url_endpoint
from opentelemetry_instrumentation_ag2.model_request import REQUEST_PARAMETERS


def _get(entry: Any, key: str) -> Any:
    return entry.get(key) if isinstance(entry, dict) else getattr(entry, key, None)


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
    return url_endpoint(base_url)


DEFAULT_PROVIDER = "openai"
"""The provider of a config that names none: AG2 classic's default ``api_type``."""

_CONFIGURED = (("model", attr.GEN_AI_REQUEST_MODEL), *REQUEST_PARAMETERS)


def request_parameters(get: Callable[[str], Any]) -> dict[str, Any]:
    """The ``gen_ai.request.*`` attributes of the request parameters ``get`` finds (in a call or a config entry)."""
    found = {}
    for key, name in _CONFIGURED:
        value = get(key)
        if value not in (None, "") and name not in found:
            found[name] = value
    if isinstance(found.get(attr.GEN_AI_REQUEST_STOP_SEQUENCES), str):
        found[attr.GEN_AI_REQUEST_STOP_SEQUENCES] = [found[attr.GEN_AI_REQUEST_STOP_SEQUENCES]]
    if found.get(attr.GEN_AI_REQUEST_CHOICE_COUNT) == 1:  # the default: said only when more are asked for
        del found[attr.GEN_AI_REQUEST_CHOICE_COUNT]
    response_format = get("response_format")
    if response_format is not None:
        found[attr.GEN_AI_OUTPUT_TYPE] = output_type(response_format)
    return found


_PARAMETER_KEYS = frozenset({key for key, _ in _CONFIGURED} | {"response_format"})


def call_parameters(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``request_parameters`` of a call's keyword arguments (AG2's own calls pass none: seen at once)."""
    return {} if _PARAMETER_KEYS.isdisjoint(kwargs) else request_parameters(kwargs.get)


def output_type(response_format: Any) -> str:
    """``gen_ai.output.type`` of a ``response_format``: a pydantic model or a JSON format is ``json``."""
    kind = response_format.get("type") if isinstance(response_format, dict) else response_format
    return "text" if kind == "text" else "json"


def first_tried(wrapper: Any) -> int:
    """The config entry AG2 tries first on the wrapper's next call (round-robin routing moves on each call)."""
    if getattr(wrapper, "routing_method", None) == "round_robin":
        index = getattr(wrapper, "_round_robin_index", 0)
        return index if isinstance(index, int) else 0
    return 0


def answered_by(wrapper: Any, response: Any) -> int | None:
    """The index of the config entry whose client gave the response, as AG2 records it, or ``None``."""
    metadata = getattr(wrapper, "_response_metadata", None)
    found = metadata.get(getattr(response, "id", None)) if isinstance(metadata, dict) else None
    index = found.get("config_id") if isinstance(found, dict) else getattr(response, "config_id", None)
    return index if isinstance(index, int) else None


def config_entry(wrapper: Any, index: int) -> Any:
    """One of the wrapper's config entries (dict or pydantic), or ``{}``."""
    entries = getattr(wrapper, "_config_list", None) or ()
    return entries[index] if index < len(entries) else {}


def client_base_url(wrapper: Any, index: int) -> Any:
    """The endpoint of one of the wrapper's clients (AG2 moves ``base_url`` out of the config into the client)."""
    clients = getattr(wrapper, "_clients", None) or ()
    client = getattr(clients[index], "_oai_client", None) if index < len(clients) else None
    return getattr(client, "base_url", None)
