"""Which ``ModelConfig`` a 1.x turn really calls, on every way a turn starts.

AG2 keeps a config in the turn's context (``__ag2_model_config__``, set when it resolves one for a fresh
turn), but continuations that switch model, ``AgentReply.ask(config=...)`` / ``run(config=...)``, hand the
turn a ready client and leave that entry stale. So the client is what counts: each client a turn runs with
is remembered with the config it came from, and a continuation that passes a config says so for the turn
it starts.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import Any

from opentelemetry import context

from opentelemetry_instrumentation_ag2.v1.model_config import MODEL_CONFIG_KEY

logger = logging.getLogger(__name__)

_CONTINUATION_CONFIG = context.create_key("ag2-continuation-config")
"""A one-item list holding the config an ``AgentReply.ask(config=...)`` passed, until its turn takes it."""

_configs_by_client: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def remember(client: Any, config: Any) -> None:
    """Note the config a client was made from (clients that cannot be weakly referenced are skipped)."""
    with contextlib.suppress(TypeError):
        _configs_by_client[client] = config


def _remembered(client: Any) -> Any:
    try:
        return _configs_by_client.get(client)
    except TypeError:
        return None


def _continuation_config() -> Any:
    """The config of the ``AgentReply.ask(config=...)`` being started, taken once (not by turns nested in it)."""
    holder = context.get_value(_CONTINUATION_CONFIG)
    return holder.pop() if isinstance(holder, list) and holder else None


def turn_config(agent: Any, kwargs: dict) -> Any:
    """The config the turn ``Agent._turn_scope(**kwargs)`` opens will call.

    In order: the config the turn is handed (``run`` paths on AG2 >= 1.1), the config a continuation
    passed for the client it made, the config the turn's client was made from, the one AG2 resolved into
    the context (fresh turns on AG2 1.0), the agent's own.
    """
    client, config = kwargs.get("client"), kwargs.get("config")
    if client is None:
        return config or getattr(agent, "config", None)
    config = config or _continuation_config() or _remembered(client)
    if config is None:
        dependencies = getattr(kwargs.get("context"), "dependencies", None) or {}
        config = dependencies.get(MODEL_CONFIG_KEY) or getattr(agent, "config", None)
    remember(client, config)
    return config


async def continuation_wrapper(wrapped: Callable, reply: Any, args: tuple, kwargs: dict) -> Any:
    """Wrapper of ``AgentReply.ask``: a ``config=`` it is given is the config of the turn it starts."""
    config = kwargs.get("config")
    if config is None:
        return await wrapped(*args, **kwargs)
    token = context.attach(context.set_value(_CONTINUATION_CONFIG, [config]))
    try:
        return await wrapped(*args, **kwargs)
    finally:
        context.detach(token)


def run_wrapper(wrapped: Callable, agent: Any, args: tuple, kwargs: dict) -> Any:
    """Wrapper of ``Agent._make_run``: a run given both a client and its config (``AgentReply.run``)."""
    client, config = kwargs.get("client"), kwargs.get("config")
    if client is not None and config is not None:
        remember(client, config)
    return wrapped(*args, **kwargs)
