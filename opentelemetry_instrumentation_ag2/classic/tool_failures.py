"""A failing tool's own exception, caught where the tool raises it, for its ``execute_tool`` span.

AG2 catches a tool's exception and hands the model only ``"Error: <message>"``. So that the span records
the real exception (type, message, stack), each function an agent calls as a tool is wrapped, in the
agent's function map, the first time a traced call reaches it: the wrapper notes what the function
raises (synchronously or when awaited) on the :class:`ToolCall` of the current ``execute_tool`` span and
re-raises it, so AG2 sees and handles it exactly as before. ``restore_all()`` puts the functions back.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Awaitable
from typing import Any

from opentelemetry import context

from opentelemetry_instrumentation_ag2.patching import PatchedFunction

TOOL_CALL = context.create_key("ag2-tool-call")


class ToolCall:
    """One traced tool call: what the tool raised, if it did."""

    __slots__ = ("exception",)

    def __init__(self) -> None:
        self.exception: BaseException | None = None


async def _awaited(result: Awaitable[Any], call: ToolCall) -> Any:
    try:
        return await result
    except Exception as exc:
        call.exception = exc
        raise


def note_raised(wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
    """wrapt wrapper for a tool function: what it raises is noted on the current tool call, then re-raised."""
    call: ToolCall | None = context.get_value(TOOL_CALL)  # type: ignore[assignment]
    if call is None:
        return wrapped(*args, **kwargs)
    try:
        result = wrapped(*args, **kwargs)
    except Exception as exc:
        call.exception = exc
        raise
    # an async tool raises when awaited, maybe in another thread: the call goes with the coroutine
    return _awaited(result, call) if inspect.iscoroutine(result) else result


class ToolFunctions:
    """Wraps the functions in agents' function maps with :func:`note_raised`, and unwraps them."""

    def __init__(self) -> None:
        self._agents: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()

    def prepare(self, agent: Any, name: str) -> None:
        """Wrap the agent's function ``name`` unless it is already."""
        functions = getattr(agent, "_function_map", None)
        function = functions.get(name) if isinstance(functions, dict) else None
        if function is None or isinstance(function, PatchedFunction):
            return
        functions[name] = PatchedFunction(function, note_raised)
        self._agents[id(agent)] = agent

    def restore_all(self) -> None:
        """Put every wrapped function back."""
        for agent in list(self._agents.values()):
            functions = getattr(agent, "_function_map", None) or {}
            for name, function in list(functions.items()):
                if isinstance(function, PatchedFunction) and function._self_wrapper is note_raised:
                    functions[name] = function.__wrapped__
        self._agents.clear()
