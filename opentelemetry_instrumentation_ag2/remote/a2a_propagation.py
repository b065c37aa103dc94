"""Trace context out on every request of a remote agent call (A2A), for both AG2 lines.

A line marks the context of a remote call it traces with :func:`in_remote_call`; while it is current, each
request httpx sends (agent card, JSON-RPC, REST) and each gRPC call's metadata carries the current W3C
context (global propagator), at send time, whatever client factory, interceptors or headers the user set.
The ``httpx.AsyncClient.send`` patch is the same wrapper for both lines, so it wraps that method once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from opentelemetry import context, propagate
from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from opentelemetry_instrumentation_ag2.patching import Patch

logger = logging.getLogger(__name__)

IN_REMOTE_CALL = context.create_key("ag2-a2a-remote-call")
"""Set in the context of a remote call: its requests carry the trace context."""


def in_remote_call(parent: context.Context | None = None) -> context.Context:
    """``parent`` (the current context by default) marked as a remote call's."""
    return context.set_value(IN_REMOTE_CALL, True, parent)


def propagating() -> bool:
    """Whether the current context is a remote call's, with instrumentation not suppressed."""
    return bool(context.get_value(IN_REMOTE_CALL)) and is_instrumentation_enabled()


def inject_into_request(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
    """wrapt wrapper of ``httpx.AsyncClient.send``: the current context into a remote call's request headers."""
    if propagating():
        try:
            request = args[0] if args else kwargs["request"]
            propagate.inject(request.headers)
        except Exception:
            logger.debug("ag2 instrumentation failed to inject trace context", exc_info=True)
    return wrapped(*args, **kwargs)


def inject_into_metadata(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
    """wrapt wrapper of a gRPC transport's metadata builder: the current context into a remote call's metadata."""
    metadata = wrapped(*args, **kwargs)
    if not propagating():
        return metadata
    try:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        return [*metadata, *((key.lower(), value) for key, value in carrier.items())]
    except Exception:
        logger.debug("ag2 instrumentation failed to inject trace context", exc_info=True)
        return metadata


HTTPX_SEND = Patch("httpx", "AsyncClient.send", inject_into_request)
"""The one patch on httpx, in both lines' A2A client patches (applied once: :meth:`Patch.apply`)."""
