"""The ``invoke_agent`` span of every AG2 1.x turn, around the whole turn as its caller sees it.

Every way a 1.x turn starts (``Agent.ask``, ``Agent.run``, ``AgentReply.ask``/``run``, ``Agent.resume``, the
A2A executor, the network, sub-agents and tasks) opens ``Agent._turn_scope``, which yields the ``drive``
callable that runs the turn through its middleware chain. One class-level patch on it does two things:

* it appends our middleware (:mod:`.middleware`) last, so that it is innermost: its ``chat``, ``execute_tool``
  and ``await_human_input`` spans sit tight around the real calls;
* it opens the turn's span with the scope and runs the yielded ``drive`` in it, so the span holds the turn's
  set-up (its tools resolved: an MCP server's discovered) and everything the chain does, the user's
  middleware included: a turn it refuses, short-circuits or fails is seen as the caller sees it, and the
  model calls AG2 makes after the turn's own (compaction, aggregation) are beneath it.

A turn whose middleware includes AG2's own ``TelemetryMiddleware`` gets its span from our middleware's
``on_turn`` instead, adopting AG2's ``invoke_agent`` span there (:mod:`.own_tracing`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from opentelemetry_instrumentation_ag2.v1.agents import AgentSpans
from opentelemetry_instrumentation_ag2.v1.middleware import TracingFactory, TurnHooks
from opentelemetry_instrumentation_ag2.v1.model_config import model_attributes
from opentelemetry_instrumentation_ag2.v1.own_tracing import traced_by_ag2_middleware
from opentelemetry_instrumentation_ag2.v1.turn_config import turn_config
from opentelemetry_instrumentation_ag2.v1.turn_span import TurnSpan
from opentelemetry_instrumentation_ag2.v1.turn_state import Turn

logger = logging.getLogger(__name__)


class TracedTurnScope:
    """``Agent._turn_scope``'s context manager: the turn's span opens with it, and its ``drive`` runs beneath it.

    The span is current while AG2 sets the turn up (its tools discovered, e.g. an MCP server's) and while the
    yielded ``drive`` runs (:class:`.turn_span.TurnSpan`); a turn that fails to set up ends it failed, one never
    driven ends it on leaving.
    """

    __slots__ = ("_scope", "_span", "_spans", "_turn", "_turn_args")

    def __init__(self, scope: Any, spans: AgentSpans, turn: Turn | None, turn_args: tuple) -> None:
        self._scope = scope
        self._spans = spans
        self._turn = turn
        self._turn_args = turn_args
        """The turn's ``(event, context)``, for describing it."""
        self._span: TurnSpan | None = None

    async def __aenter__(self) -> Callable[[], Awaitable[Any]]:
        if self._turn is None:
            return await self._scope.__aenter__()
        span = self._span = TurnSpan(self._spans, self._turn, self._turn_args)
        token = span.enter()
        try:
            drive = await self._scope.__aenter__()
        except BaseException as exc:
            span.end(exc)
            raise
        finally:
            span.leave(token)
        return partial(span.drive, drive)

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self._scope.__aexit__(*exc_info)
        finally:
            if self._span is not None:
                self._span.end()


def inject_tracing(hooks: TurnHooks) -> Callable:
    """The wrapt wrapper of ``Agent._turn_scope``: our middleware innermost, the turn's span outermost."""

    spans = AgentSpans(hooks.telemetry)

    def wrapper(wrapped: Callable, agent: Any, args: tuple, kwargs: dict) -> Any:
        if not hooks.telemetry.enabled or not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        try:
            config = turn_config(agent, kwargs)
            event, context = args[0] if args else kwargs.get("event"), kwargs.get("context")
            conversation_id = str(context.stream.id)  # one history, one id: continuations share it
            ag2_traced = traced_by_ag2_middleware(agent, kwargs)
            turn = Turn(agent, config, conversation_id, model_attributes(config), ag2_traced)
            factory = TracingFactory(hooks, turn)
            kwargs = {**kwargs, "additional_middleware": (*kwargs.get("additional_middleware", ()), factory)}
        except Exception:  # telemetry must never break the application
            logger.debug("ag2 instrumentation failed to trace a turn", exc_info=True)
            return wrapped(*args, **kwargs)
        # a turn AG2's middleware traces gets its span at ours' ``on_turn``, adopting AG2's there
        return TracedTurnScope(wrapped(*args, **kwargs), spans, None if ag2_traced else turn, (event, context))

    return wrapper
