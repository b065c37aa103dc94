"""The server side of A2A in AG2 1.x: an ``a2a-execution`` span per request, the served agent's spans beneath.

All patches are class-level, at points every request passes whenever its app or server was built:

* ``starlette.routing.Route.handle``, for routes whose endpoint is a2a-sdk's (agent card, JSON-RPC, REST):
  HTTP method, route, status and the JSON-RPC method; other routes pass through untouched.
* ``GrpcHandler._handle_unary`` / ``_handle_stream`` (a2a-sdk's gRPC servicer): the RPC's method.
* ``ag2.a2a.executor.AgentExecutor.execute``: the A2A task and context ids onto the request's span, which an
  agent failure marks ERROR although the transport says 200; for a request neither point saw, the span itself.

The span continues the caller's trace from the request's headers or metadata (global propagator), or starts a
new one; it is INTERNAL when an outer server instrumentation already made the request's span. The served
agent's ``invoke_agent`` and ``chat`` come from the turn patch: a2a-sdk runs ``execute`` in the contextvars of
the request that sent the message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from typing import Any

from opentelemetry import context

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.encodable import encodable_text
from opentelemetry_instrumentation_ag2.patching import Patch
from opentelemetry_instrumentation_ag2.remote.http_exchange import json_rpc_request, note_json_rpc_method, observed
from opentelemetry_instrumentation_ag2.remote.server_span import http_server_attributes, server_span_placement
from opentelemetry_instrumentation_ag2.spans import STARTED_SPAN, SpanStart, TracingSession, record_exception

logger = logging.getLogger(__name__)

EXECUTOR_MODULE = "ag2.a2a.executor"
GRPC_HANDLER_MODULE = "a2a.server.request_handlers.grpc_handler"
GRPC_SERVICE = "lf.a2a.v1.A2AService"
_SERVER_SPAN = context.create_key("ag2-a2a-server-span")


def _execution(pairs: Iterable, attributes: dict[str, Any]) -> SpanStart:
    parent, kind = server_span_placement(pairs)
    return SpanStart(
        attr.A2A_EXECUTION_SPAN, attributes, kind, parent=parent, context_values={_SERVER_SPAN: STARTED_SPAN}
    )


def a2a_ids(task_id: Any, context_id: Any) -> dict[str, str]:
    """The A2A task and context id attributes, of those known."""
    found = ((attr.A2A_TASK_ID, task_id), (attr.A2A_CONTEXT_ID, context_id))
    return {key: encodable_text(str(value)) for key, value in found if value}


def serves_a2a(route: Any) -> bool:
    """Whether a Starlette route is one of a2a-sdk's (its endpoint lives in the ``a2a`` package)."""
    module = getattr(getattr(route, "endpoint", None), "__module__", None)
    return isinstance(module, str) and module.startswith("a2a.")


class HttpRequests:
    """The ``a2a-execution`` span of every HTTP request to an a2a-sdk route (wrapt wrapper of ``Route.handle``)."""

    def __init__(self, telemetry: TracingSession) -> None:
        self.telemetry = telemetry

    def describe(self, route: Any, args: tuple, kwargs: dict) -> SpanStart:
        (scope,) = args
        attributes = http_server_attributes(scope, getattr(route, "path", ""))
        attributes.update(a2a_ids((scope.get("path_params") or {}).get("id"), None))  # REST: /tasks/{id}...
        return _execution(scope.get("headers") or (), attributes)

    async def __call__(self, wrapped: Callable, route: Any, args: tuple, kwargs: dict) -> Any:
        if len(args) != 3 or kwargs or args[0].get("type") != "http" or not serves_a2a(route):
            return await wrapped(*args, **kwargs)
        scope, receive, send = args
        active = self.telemetry.begin(self.describe, route, (scope,), {})
        if active is None:
            return await wrapped(*args, **kwargs)
        span = active.span
        receive, send = observed(span, receive, send, lambda body: self._note_json_rpc(span, body))
        with active:
            return await wrapped(scope, receive, send)

    @staticmethod
    def _note_json_rpc(span: Any, body: bytes) -> None:
        method, task_id = json_rpc_request(body)
        note_json_rpc_method(span, method)
        span.set_attributes(a2a_ids(task_id, None))


def _grpc_method(handler: Any) -> str | None:
    """``SendMessage`` from a2a-sdk's per-method handler (``GrpcHandler.SendMessage.<locals>._handler``)."""
    parts = getattr(handler, "__qualname__", "").split(".")
    return parts[-3] if len(parts) >= 3 and parts[-2] == "<locals>" else None


class GrpcRequests:
    """The ``a2a-execution`` span of every gRPC call (wrapt wrappers of ``GrpcHandler._handle_unary`` / ``_stream``)."""

    def __init__(self, telemetry: TracingSession) -> None:
        self.telemetry = telemetry

    def describe(self, handler: Any, args: tuple, kwargs: dict) -> SpanStart:
        request, servicer_context, handler_func = args[:3]
        attributes: dict[str, Any] = {attr.RPC_SYSTEM_NAME: "grpc"}
        method = _grpc_method(handler_func)
        if method:
            attributes[attr.RPC_METHOD] = f"{GRPC_SERVICE}/{method}"
        message = getattr(request, "message", None)
        task_id = getattr(request, "id", None) or getattr(message, "task_id", None)
        attributes.update(a2a_ids(task_id, getattr(message, "context_id", None)))
        return _execution(servicer_context.invocation_metadata() or (), attributes)

    def span(self, args: tuple, kwargs: dict) -> AbstractContextManager:
        if len(args) < 3 or kwargs:
            return nullcontext()
        return self.telemetry.span(self.describe, None, args, kwargs)

    async def unary(self, wrapped: Callable, handler: Any, args: tuple, kwargs: dict) -> Any:
        with self.span(args, kwargs):
            return await wrapped(*args, **kwargs)

    async def stream(self, wrapped: Callable, handler: Any, args: tuple, kwargs: dict) -> Any:
        with self.span(args, kwargs):
            async for item in wrapped(*args, **kwargs):
                yield item


def _call_fields(request_context: Any) -> Iterable:
    """The headers (HTTP) or metadata (gRPC) of the request behind an executor call, as pairs."""
    state = getattr(getattr(request_context, "call_context", None), "state", None) or {}
    headers = state.get("headers")
    if isinstance(headers, dict):
        return headers.items()
    grpc_context = state.get("grpc_context")
    return (grpc_context.invocation_metadata() or ()) if grpc_context is not None else ()


class ServedAgent:
    """``AgentExecutor.execute``: the A2A ids onto the request's span, and its failure."""

    def __init__(self, telemetry: TracingSession) -> None:
        self.telemetry = telemetry

    def execution(self, executor: Any, args: tuple, kwargs: dict) -> SpanStart:
        """``a2a-execution`` for a request no transport point saw (e.g. a custom app or handler)."""
        return _execution(_call_fields(args[0]), {})

    async def __call__(self, wrapped: Callable, executor: Any, args: tuple, kwargs: dict) -> Any:
        if not args or not self.telemetry.enabled:
            return await wrapped(*args, **kwargs)
        request_context = args[0]
        with ExitStack() as stack:
            span = context.get_value(_SERVER_SPAN)
            own = span is None
            if own:
                active = self.telemetry.begin(self.execution, executor, args, kwargs)
                span = active and stack.enter_context(active).span
            if span is not None:
                try:
                    message = getattr(request_context, "message", None)
                    task_id = getattr(message, "task_id", None) or request_context.task_id
                    context_id = getattr(message, "context_id", None) or request_context.context_id
                    span.set_attributes(a2a_ids(task_id, context_id))
                except Exception:
                    logger.debug("ag2 instrumentation failed to read the A2A request", exc_info=True)
            try:
                return await wrapped(*args, **kwargs)
            except BaseException as exc:
                if not own and span is not None and span.is_recording():
                    record_exception(span, exc)
                raise


def a2a_server_patches(telemetry: TracingSession) -> list[Patch]:
    """The A2A server patches (the gRPC ones apply only where a2a-sdk's gRPC handler imports)."""
    grpc = GrpcRequests(telemetry)
    return [
        Patch("starlette.routing", "Route.handle", HttpRequests(telemetry)),
        Patch(GRPC_HANDLER_MODULE, "GrpcHandler._handle_unary", grpc.unary),
        Patch(GRPC_HANDLER_MODULE, "GrpcHandler._handle_stream", grpc.stream),
        Patch(EXECUTOR_MODULE, "AgentExecutor.execute", ServedAgent(telemetry)),
    ]
