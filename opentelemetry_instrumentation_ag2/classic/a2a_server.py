"""The server side of A2A: an ``a2a-execution`` span per request, and the served agent's spans.

* ``A2aAgentServer.build()`` / ``build_starlette_app()`` get :class:`A2AServerMiddleware`, a pure-ASGI
  middleware that continues the caller's trace from the request headers (global propagator) or starts
  a new one, and records the HTTP method, route, status and JSON-RPC method.
* ``AutogenAgentExecutor.execute`` (where AG2 really runs the served agent, without ``generate_reply``)
  makes ``conversation {agent} → invoke_agent {agent}`` under it and puts the A2A task and context ids
  on the ``a2a-execution`` span; an agent failure marks that span ERROR although HTTP says 200.

An app built before ``instrument()`` has no middleware: its ``execute`` makes the ``a2a-execution`` span
itself, from the request headers a2a-sdk hands the executor. The middleware of an app built in an earlier
``instrument()`` session traces for the current one.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from typing import Any

from opentelemetry import context, trace

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.classic import modules
from opentelemetry_instrumentation_ag2.classic.agents import AgentSpans
from opentelemetry_instrumentation_ag2.encodable import encodable_text
from opentelemetry_instrumentation_ag2.patching import Patch
from opentelemetry_instrumentation_ag2.remote.http_exchange import json_rpc_request, note_json_rpc_method, observed
from opentelemetry_instrumentation_ag2.remote.server_span import http_server_attributes, server_span_placement
from opentelemetry_instrumentation_ag2.spans import STARTED_SPAN, SpanStart, TracingSession, record_exception

logger = logging.getLogger(__name__)

SERVER_MODULE = modules.A2A_SERVER
EXECUTOR_MODULE = modules.A2A_EXECUTOR
_SERVER_SPAN = context.create_key("ag2-a2a-server-span")


class _CurrentSession:
    """The telemetry of the current ``instrument()`` session, which every app's middleware traces for."""

    telemetry: TracingSession | None = None


def _route(app: Any, scope: dict) -> str | None:
    from starlette.routing import Match

    for route in getattr(app, "routes", ()):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return getattr(route, "path", None)
    return None


class A2AServerMiddleware:
    """Pure-ASGI middleware making the ``a2a-execution`` SERVER span of every HTTP request."""

    def __init__(self, app: Any, routes_of: Any = None) -> None:
        self.app = app
        self.routes_of = routes_of

    def describe(self, _: Any, args: tuple, kwargs: dict) -> SpanStart:
        (scope,) = args
        parent, kind = server_span_placement(scope.get("headers") or ())
        attributes = http_server_attributes(scope, _route(self.routes_of, scope))
        return SpanStart(
            attr.A2A_EXECUTION_SPAN,
            attributes,
            kind,
            parent=parent,
            context_values={_SERVER_SPAN: STARTED_SPAN},
        )

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        telemetry = _CurrentSession.telemetry
        if scope.get("type") != "http" or telemetry is None:
            await self.app(scope, receive, send)
            return
        active = telemetry.begin(self.describe, None, (scope,), {})
        if active is None:
            await self.app(scope, receive, send)
            return
        span = active.span
        receive, send = observed(
            span, receive, send, lambda body: note_json_rpc_method(span, json_rpc_request(body)[0])
        )
        with active:
            await self.app(scope, receive, send)


class ServedAgentSpans:
    """The served agent's ``conversation`` and ``invoke_agent`` spans around ``AutogenAgentExecutor.execute``."""

    def __init__(self, telemetry: TracingSession, agent_spans: AgentSpans) -> None:
        self.telemetry = telemetry
        self.agent_spans = agent_spans

    def conversation(self, agent: Any, args: tuple, kwargs: dict) -> SpanStart:
        request = args[0] if args else kwargs["context"]
        start = self.agent_spans.conversation(agent, (), {})
        if request.context_id:
            start.conversation_id = str(request.context_id)
            start.attributes[attr.A2A_CONTEXT_ID] = str(request.context_id)
        if request.task_id:
            start.attributes[attr.A2A_TASK_ID] = str(request.task_id)
        return start

    def turn(self, agent: Any, args: tuple, kwargs: dict) -> SpanStart:
        return self.agent_spans.agent_turn(agent, (), {})

    def execution(self, agent: Any, args: tuple, kwargs: dict) -> SpanStart:
        """``a2a-execution`` for a request no middleware saw (an app built before ``instrument()``)."""
        request = args[0] if args else kwargs["context"]
        state = getattr(getattr(request, "call_context", None), "state", None) or {}
        parent, kind = server_span_placement((state.get("headers") or {}).items())
        return SpanStart(
            attr.A2A_EXECUTION_SPAN,
            {},
            kind,
            parent=parent,
            context_values={_SERVER_SPAN: STARTED_SPAN},
        )

    async def execute(self, wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
        """wrapt wrapper for ``AutogenAgentExecutor.execute``."""
        agent = getattr(getattr(instance, "agent", None), "agent", None)
        if agent is None:
            return await wrapped(*args, **kwargs)
        with ExitStack() as spans:
            server_span: trace.Span | None = context.get_value(_SERVER_SPAN)  # type: ignore[assignment]
            if server_span is None:
                execution = self.telemetry.begin(self.execution, agent, args, kwargs)
                server_span = execution and spans.enter_context(execution).span
            self._annotate_server_span(server_span, args, kwargs)
            spans.enter_context(self.telemetry.span(self.conversation, agent, args, kwargs))
            spans.enter_context(self.telemetry.span(self.turn, agent, args, kwargs))
            try:
                return await wrapped(*args, **kwargs)
            except BaseException as exc:
                if server_span is not None:
                    record_exception(server_span, exc)
                raise

    @staticmethod
    def _annotate_server_span(span: trace.Span | None, args: tuple, kwargs: dict) -> None:
        if span is None:
            return
        try:
            request = args[0] if args else kwargs["context"]
            if request.task_id:
                span.set_attribute(attr.A2A_TASK_ID, encodable_text(str(request.task_id)))
            if request.context_id:
                span.set_attribute(attr.A2A_CONTEXT_ID, encodable_text(str(request.context_id)))
        except Exception:
            logger.debug("ag2 instrumentation failed to read the A2A request", exc_info=True)


def add_server_middleware(wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
    """wrapt wrapper for ``A2aAgentServer.build``: the built app gets :class:`A2AServerMiddleware`.

    Outermost, so that a request the user's middleware (``A2aAgentServer.add_middleware``) rejects has its
    span too; but just inside a server instrumentation's middleware (starlette's), whose span is then the
    request's SERVER span and ``a2a-execution`` the INTERNAL span beneath it.
    """
    app = wrapped(*args, **kwargs)
    try:
        from starlette.middleware import Middleware

        app.user_middleware.insert(
            _position_of_ours(app.user_middleware), Middleware(A2AServerMiddleware, routes_of=app)
        )
    except Exception:
        logger.debug("ag2 instrumentation could not add its middleware to %r", app, exc_info=True)
    return app


def _position_of_ours(stack: list[Any]) -> int:
    """Just inside the innermost OpenTelemetry middleware of ``stack`` (outermost first), else outermost."""
    return max((index + 1 for index, entry in enumerate(stack) if _is_opentelemetry(entry.cls)), default=0)


def _is_opentelemetry(cls: Any) -> bool:
    return getattr(cls, "__module__", "").startswith("opentelemetry.instrumentation.")


def a2a_server_patches(telemetry: TracingSession, agent_spans: AgentSpans) -> list[Patch]:
    """The A2A server patches, or none when ``autogen.a2a`` is not importable."""
    try:
        import autogen.a2a  # noqa: F401
    except ImportError:
        return []
    _CurrentSession.telemetry = telemetry
    served = ServedAgentSpans(telemetry, agent_spans)
    return [
        Patch(SERVER_MODULE, "A2aAgentServer.build_starlette_app", add_server_middleware),
        Patch(SERVER_MODULE, "A2aAgentServer.build", add_server_middleware),
        Patch(EXECUTOR_MODULE, "AutogenAgentExecutor.execute", served.execute),
    ]
