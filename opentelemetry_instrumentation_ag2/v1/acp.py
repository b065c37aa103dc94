"""W3C trace context over ACP (Agent Client Protocol, JSON-RPC over stdio) for AG2 1.x: in and out via ``_meta``.

ACP carries trace context the way MCP does, in the request's ``_meta`` map (``traceparent``, ``tracestate``,
``baggage``). The acp SDK makes its own ``acp.request`` / ``acp.notification`` span around each message it
handles, but parents it on whatever context its receive loop happens to run in, so an ACP-served AG2 turn
starts a new trace. Two patches on the SDK's ``Connection``, applied once the application imports ``ag2.acp``:

* handling a request or notification (``_execute_request`` / ``_run_notification``): a ``_meta`` carrying a
  valid W3C context (global propagator) becomes the current context, so the SDK's span continues the caller's
  trace and the served turn (``ACPAgent`` runs it in a task copying that context) lies beneath it; a ``_meta``
  with none, or a malformed one, changes nothing;
* sending ``session/prompt`` (``send_request``; AG2's ``ACPClient`` sends one per model call): the current
  context is added to its ``_meta``, unless the caller put a ``traceparent`` there already.

No span of ours: the SDK's span is the request's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from opentelemetry_instrumentation_ag2.patching import Patch, run_in
from opentelemetry_instrumentation_ag2.remote.meta_context import context_in_meta, with_meta_context
from opentelemetry_instrumentation_ag2.spans import TracingSession

logger = logging.getLogger(__name__)

CONNECTION_MODULE = "acp.connection"
PROMPT_METHOD = "session/prompt"


class MetaContext:
    """The W3C context of ``_meta``, in and out of one process's ACP connections (wrapt wrappers)."""

    def __init__(self, telemetry: TracingSession) -> None:
        self.telemetry = telemetry

    def _on(self) -> bool:
        return self.telemetry.enabled and is_instrumentation_enabled()

    async def handling(self, wrapped: Callable, connection: Any, args: tuple, kwargs: dict) -> Any:
        """``_execute_request(message)`` / ``_run_notification(message)``: run in the context ``_meta`` carries."""
        parent = None
        if self._on():
            try:
                parent = context_in_meta(args[0] if args else kwargs.get("message"))
            except Exception:
                logger.debug("ag2 instrumentation failed to read an ACP message's trace context", exc_info=True)
        return await run_in(parent, wrapped, args, kwargs)

    async def sending(self, wrapped: Callable, connection: Any, args: tuple, kwargs: dict) -> Any:
        """``send_request(method, params)``: a ``session/prompt`` carries the current context in its ``_meta``."""
        if self._on() and len(args) == 2 and not kwargs and args[0] == PROMPT_METHOD:
            try:
                args = (args[0], with_meta_context(args[1]))
            except Exception:
                logger.debug("ag2 instrumentation failed to add trace context to an ACP prompt", exc_info=True)
        return await wrapped(*args, **kwargs)


def acp_patches(telemetry: TracingSession) -> list[Patch]:
    """The ACP patches, on the acp SDK's ``Connection`` (both sides of every connection in this process)."""
    meta = MetaContext(telemetry)
    return [
        Patch(CONNECTION_MODULE, "Connection._execute_request", meta.handling),
        Patch(CONNECTION_MODULE, "Connection._run_notification", meta.handling),
        Patch(CONNECTION_MODULE, "Connection.send_request", meta.sending),
    ]
