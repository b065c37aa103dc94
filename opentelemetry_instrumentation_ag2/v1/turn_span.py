"""A turn's ``invoke_agent`` span, open from the moment AG2 sets the turn up until its ``drive`` ends.

AG2 sets a turn up when ``Agent._turn_scope`` is entered: it prepares the prompt and resolves the turn's tools,
and a toolkit that discovers its tools remotely does so there (``MCPToolkit``: ``initialize``, ``tools/list``
on the MCP server). It runs the turn only when the yielded ``drive`` is awaited, often in another task
(``AgentRun`` drives it in one). :class:`TurnSpan` begins the span on entry and makes it current during the
set-up and again during the drive, so whatever either does is beneath the turn, in its trace.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry import context

from opentelemetry_instrumentation_ag2.v1.agents import AgentSpans
from opentelemetry_instrumentation_ag2.v1.turn_state import Turn


class TurnSpan:
    """One turn's span: begun now, current from :meth:`enter` to :meth:`leave`, ended by :meth:`drive` or :meth:`end`.

    The span is begun in a context of its own, so beginning and ending it attach and detach nothing in the
    caller's tasks, whichever tasks set the turn up and drive it.
    """

    __slots__ = ("_active", "_context", "_own", "_spans")

    def __init__(self, spans: AgentSpans, turn: Turn, turn_args: tuple) -> None:
        self._spans = spans
        self._own = contextvars.copy_context()
        self._active = self._own.run(spans.telemetry.begin, spans.turn, turn, turn_args, {})
        self._context = self._own.run(context.get_current) if self._active is not None else None

    def enter(self) -> object:
        """Make the turn's span current, with the values its children read (usage, turn): a token to :meth:`leave`."""
        return context.attach(self._context) if self._context is not None else None

    @staticmethod
    def leave(token: object) -> None:
        """Undo :meth:`enter`."""
        if token is not None:
            context.detach(token)

    async def drive(self, drive: Callable[[], Awaitable[Any]]) -> Any:
        """Run AG2's ``drive`` beneath the span, and end the span with the turn's outcome."""
        token = self.enter()
        try:
            reply = await drive()
        except BaseException as exc:
            self.end(exc)
            raise
        finally:
            self.leave(token)
        if self._active is not None:
            self._active.finish(self._spans.turn_result, reply)
        self.end()
        return reply

    def end(self, error: BaseException | None = None) -> None:
        """End the span, failed by ``error`` when one ended the turn; later calls do nothing."""
        active, self._active = self._active, None
        if active is not None:
            failure = (type(error), error, error.__traceback__) if error is not None else (None, None, None)
            self._own.run(active.__exit__, *failure)
