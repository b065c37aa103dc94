"""MCP notifications sent during an AG2 turn carry the turn's trace context, as the mcp SDK's requests do.

The mcp SDK (2.x) puts W3C trace context into each request's ``_meta`` (its ``MCP send ...`` CLIENT spans) and
its server continues it (its SERVER spans). It sends notifications without it, so the server's span of one
starts a new trace: ``notifications/initialized`` ends every handshake, and ``MCPToolkit`` opens a session for
each discovery and each tool call. Within a traced turn, :func:`notify_in_turn` adds the current context to a
notification's ``_meta`` (:mod:`..remote.meta_context`), so the server's spans stay in the turn's trace.

The mcp SDK 1.x (ag2 1.0) neither sends nor reads that context and makes no spans: its server gets a SERVER
span per request from :func:`serve_in_caller_context`, continuing a ``_meta`` context a client sent.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from typing import Any

from opentelemetry import context
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import SpanKind

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.patching import Patch
from opentelemetry_instrumentation_ag2.remote.meta_context import TRACEPARENT, context_in_meta, with_meta_context
from opentelemetry_instrumentation_ag2.spans import SpanStart, TracingSession
from opentelemetry_instrumentation_ag2.v1.turn_state import current_turn

logger = logging.getLogger(__name__)

MCP_DISPATCHER_MODULE = "mcp.shared.jsonrpc_dispatcher"
"""Where the mcp SDK 2.x sends every JSON-RPC message, client and server side (absent from 1.x)."""


def notify_in_turn(telemetry: TracingSession) -> Callable:
    """The wrapt wrapper of ``JSONRPCDispatcher.notify(method, params, ...)``: the turn's context in ``_meta``."""

    def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not telemetry.enabled or not is_instrumentation_enabled() or current_turn() is None:
            return wrapped(*args, **kwargs)
        try:
            if len(args) > 1:
                args = (args[0], with_meta_context(args[1]), *args[2:])
            elif "params" in kwargs:
                kwargs = {**kwargs, "params": with_meta_context(kwargs["params"])}
        except Exception:  # telemetry must never break the application
            logger.debug("ag2 instrumentation failed to add trace context to an MCP notification", exc_info=True)
        return wrapped(*args, **kwargs)

    return wrapper


def mcp_patches(telemetry: TracingSession) -> list[Patch]:
    """The MCP patch of the 1.x line: notifications within a turn carry its trace context."""
    return [Patch(MCP_DISPATCHER_MODULE, "JSONRPCDispatcher.notify", notify_in_turn(telemetry))]


MCP_1_SERVER_MODULE = "mcp.server.lowlevel.server"
"""The mcp SDK 1.x server (ag2 1.0's ``ag2[mcp]``), which neither reads ``_meta`` nor makes spans."""
MCP_METHOD_NAME = "mcp.method.name"
MCP_2_TRACING_MODULE = "mcp.shared._otel"
"""Present from mcp 2.0, whose server continues ``_meta`` context itself."""


def _meta_of(request: Any) -> dict[str, Any]:
    """The ``_meta`` map of an mcp 1.x request (its extra fields included), empty when it has none."""
    meta = getattr(getattr(request, "params", None), "meta", None)
    dumped = meta.model_dump(by_alias=True) if hasattr(meta, "model_dump") else None
    return dumped if isinstance(dumped, dict) else {}


def _request_span(request: Any) -> SpanStart:
    """The SERVER span of one MCP request, continuing the context of its ``_meta`` (a new trace for a malformed
    one), named and described as the mcp SDK 2.x names its own: ``{method} {target}``."""
    params = getattr(request, "params", None)
    parent = context_in_meta({"params": {"_meta": _meta_of(request)}}) or context.Context()
    method = str(getattr(request, "method", "") or "")
    target = getattr(params, "name", None)
    attributes: dict[str, Any] = {MCP_METHOD_NAME: method}
    if method == "tools/call" and isinstance(target, str):
        attributes[attr.GEN_AI_TOOL_NAME] = target
    name = f"{method} {target}" if isinstance(target, str) else method
    return SpanStart(name, attributes, SpanKind.SERVER, parent=parent)


def serve_in_caller_context(telemetry: TracingSession) -> Callable:
    """The wrapt wrapper of mcp 1.x ``Server._handle_request(message, request, ...)``: a SERVER span for each
    request whose ``_meta`` carries trace context (mcp 1.x clients send none; an editor or agent may), in the
    caller's trace."""

    async def wrapper(wrapped: Callable, server: Any, args: tuple, kwargs: dict) -> Any:
        if len(args) < 2 or not telemetry.enabled or not is_instrumentation_enabled():
            return await wrapped(*args, **kwargs)
        try:
            carries_context = TRACEPARENT in _meta_of(args[1])
        except Exception:  # telemetry must never break the application
            carries_context = False
        if not carries_context:
            return await wrapped(*args, **kwargs)
        active = telemetry.begin(lambda *_: _request_span(args[1]), server, args, kwargs)
        if active is None:
            return await wrapped(*args, **kwargs)
        with active:
            return await wrapped(*args, **kwargs)

    return wrapper


def mcp_1_server_patches(telemetry: TracingSession) -> list[Patch]:
    """On mcp 1.x only: its server continues the caller's ``_meta`` context, as mcp 2.x's does by itself."""
    if importlib.util.find_spec(MCP_2_TRACING_MODULE) is not None:
        return []
    return [Patch(MCP_1_SERVER_MODULE, "Server._handle_request", serve_in_caller_context(telemetry))]
