"""The ``invoke_agent`` span of every AG2 1.x turn, around the whole turn as its caller sees it.

Every way a 1.x turn starts (``Agent.ask``, ``Agent.run``, ``AgentReply.ask``/``run``, ``Agent.resume``, the
A2A executor, the network, sub-agents and tasks) opens ``Agent._turn_scope``, which yields the ``drive``
callable that runs the turn through its middleware chain. One class-level patch on it does two things:

* it appends our middleware (:mod:`.middleware`) last, so that it is innermost: its ``chat``, ``execute_tool``
  and ``await_human_input`` spans sit tight around the real calls;
* it wraps the yielded ``drive`` in the turn's span, so the span holds everything the chain does, the
  user's middleware included: a turn it refuses, short-circuits or fails is seen as the caller sees it,
  and the model calls AG2 makes after the turn's own (compaction, aggregation) are beneath it.

A turn whose middleware includes AG2's own ``TelemetryMiddleware`` is left to its ``invoke_agent`` span.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from opentelemetry_instrumentation_ag2.v1.middleware import TracingFactory, TurnHooks
from opentelemetry_instrumentation_ag2.v1.turn_config import turn_config
from opentelemetry_instrumentation_ag2.v1.turn_state import Turn

logger = logging.getLogger(__name__)

_AG2_TELEMETRY_MIDDLEWARE = ("ag2.middleware", "TelemetryMiddleware")


def _traced_by_ag2_middleware(agent: Any, kwargs: dict) -> bool:
    """Whether AG2's own ``TelemetryMiddleware`` is among the turn's middleware (it then makes the turn's span)."""
    plugins = kwargs.get("additional_plugins") or ()
    factories: Iterable[Any] = (
        *(getattr(agent, "_middleware", None) or ()),
        *(kwargs.get("additional_middleware") or ()),
        *(m for plugin in plugins for m in (getattr(plugin, "_middleware", None) or ())),
    )
    for factory in factories:
        kind = type(factory)
        if kind.__name__ == _AG2_TELEMETRY_MIDDLEWARE[1] and kind.__module__.startswith(_AG2_TELEMETRY_MIDDLEWARE[0]):
            return True
    return False


class TracedTurnScope:
    """``Agent._turn_scope``'s context manager, whose yielded ``drive`` runs inside the turn's span."""

    __slots__ = ("_hooks", "_scope", "_turn")

    def __init__(self, scope: Any, hooks: TurnHooks, turn: Turn | None) -> None:
        self._scope = scope
        self._hooks = hooks
        self._turn = turn

    async def __aenter__(self) -> Callable[[], Awaitable[Any]]:
        drive = await self._scope.__aenter__()
        turn = self._turn
        if turn is None:
            return drive
        run_turn = self._hooks.turn

        async def traced_drive() -> Any:
            return await run_turn(drive, turn, (), {})

        return traced_drive

    async def __aexit__(self, *exc_info: Any) -> Any:
        return await self._scope.__aexit__(*exc_info)


def inject_tracing(hooks: TurnHooks) -> Callable:
    """The wrapt wrapper of ``Agent._turn_scope``: our middleware innermost, the turn's span outermost."""

    def wrapper(wrapped: Callable, agent: Any, args: tuple, kwargs: dict) -> Any:
        if not hooks.telemetry.enabled or not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        try:
            config = turn_config(agent, kwargs)
            factory = TracingFactory(hooks, agent, config)
            own = _traced_by_ag2_middleware(agent, kwargs)
            event = args[0] if args else kwargs.get("event")
            turn = None if own else Turn(agent, event, kwargs.get("context"), config)
            kwargs = {**kwargs, "additional_middleware": (*kwargs.get("additional_middleware", ()), factory)}
        except Exception:  # telemetry must never break the application
            logger.debug("ag2 instrumentation failed to trace a turn", exc_info=True)
            return wrapped(*args, **kwargs)
        return TracedTurnScope(wrapped(*args, **kwargs), hooks, turn)

    return wrapper
