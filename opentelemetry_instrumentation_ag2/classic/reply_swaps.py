"""Reversible swaps of the reply functions an agent captured in ``_reply_func_list`` when it was built.

``ConversableAgent.__init__`` stores plain function objects (``ConversableAgent.a_generate_oai_reply``,
``A2aRemoteAgent.a_generate_remote_reply``), so a class-level patch never reaches agents built before
``instrument()``. On an agent's first traced async turn its entries are swapped for wrapt wrappers of
the same functions (equal to them, same ``__name__``, still coroutine functions, so AG2's own
``exclude`` and sync/async pairing keep working); ``restore_all()`` swaps them back.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any

from opentelemetry_instrumentation_ag2.patching import BoundPatchedFunction, PatchedFunction

_WRAPPERS = (PatchedFunction, BoundPatchedFunction)


def as_method(wrapper: Callable) -> Callable:
    """Adapt a wrapt wrapper written for bound methods to reply functions called as ``func(agent, ...)``."""

    def adapter(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if instance is None and args:
            instance, args = args[0], args[1:]
            wrapped = functools.partial(wrapped, instance)
        return wrapper(wrapped, instance, args, kwargs)

    return adapter


class ReplyFunctionSwaps:
    """Swaps given original reply functions for wrapped ones, agent by agent, and back."""

    def __init__(self) -> None:
        self._replacements: dict[Any, Any] = {}
        self._agents: dict[int, weakref.ref] = {}
        """Prepared agents by ``id`` (a cheaper test than a ``WeakSet``'s); an entry leaves with its agent."""

    def add(self, original: Callable, wrapper: Callable) -> None:
        """Replace ``original`` by ``PatchedFunction(original, wrapper)`` in every agent prepared from now on."""
        self._replacements[original] = PatchedFunction(original, wrapper)

    def prepare(self, agent: Any) -> None:
        """Swap this agent's entries once; a cheap membership test afterwards."""
        key = id(agent)
        if key in self._agents:
            return
        self._swap(agent, self._replacements)
        self._agents[key] = weakref.ref(agent, lambda _, agents=self._agents: agents.pop(key, None))

    def restore_all(self) -> None:
        """Put every prepared agent's original reply functions back.

        This also unwraps entries an agent built while instrumented took from a class-level patch.
        """
        for agent in [ref() for ref in list(self._agents.values())]:
            for entry in getattr(agent, "_reply_func_list", ()):
                function = entry.get("reply_func")
                if isinstance(function, _WRAPPERS) and function.__wrapped__ in self._replacements:
                    entry["reply_func"] = function.__wrapped__
        self._agents.clear()

    def _swap(self, agent: Any, mapping: dict[Any, Any]) -> None:
        for entry in getattr(agent, "_reply_func_list", ()):
            function = entry.get("reply_func")
            for old, new in mapping.items():
                if function is old:
                    entry["reply_func"] = new
                    break
