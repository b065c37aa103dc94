"""Carry the OpenTelemetry context across the thread hops AG2 makes, so nothing becomes a separate trace.

AG2 loses the context in two places:

* ``run()`` / ``run_iter()`` / ``initiate_chats`` and the group-chat runners start a ``threading.Thread``;
  we give those modules a ``threading`` whose ``Thread`` carries the creator's context.
* ``a_generate_oai_reply`` calls the sync LLM path through ``loop.run_in_executor``, which copies no
  context. It reaches agents through their ``_reply_func_list`` (captured when the agent was built), so
  an agent's entry is swapped for a context-carrying wrapper on its first async turn and swapped back on
  ``uninstrument()``.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import threading
import types
import weakref
from typing import Any

from opentelemetry import context
from wrapt import FunctionWrapper

THREADING_MODULES = (
    "autogen.agentchat.conversable_agent",
    "autogen.agentchat.group.multi_agent_chat",
)


class ContextThread(threading.Thread):
    """A ``threading.Thread`` that runs its target in the OpenTelemetry context it was created in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._otel_context = context.get_current()

    def run(self) -> None:
        token = context.attach(self._otel_context)
        try:
            super().run()
        finally:
            context.detach(token)


def _threading_with_context() -> types.ModuleType:
    module = types.ModuleType("threading")
    module.__dict__.update(threading.__dict__)
    module.Thread = ContextThread  # type: ignore[attr-defined]
    return module


class ThreadContextCarrier:
    """Swaps the ``threading`` global of AG2's thread-starting modules, and swaps it back."""

    def __init__(self) -> None:
        self._replaced: list[types.ModuleType] = []

    def install(self) -> None:
        """Make AG2's chat threads inherit the caller's context."""
        carrying = _threading_with_context()
        for name in THREADING_MODULES:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            if getattr(module, "threading", None) is threading:
                module.threading = carrying  # type: ignore[attr-defined]
                self._replaced.append(module)

    def uninstall(self) -> None:
        """Give the modules back the real ``threading``."""
        for module in self._replaced:
            module.threading = threading  # type: ignore[attr-defined]
        self._replaced.clear()


async def _run_sync_reply_with_context(wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
    """``a_generate_oai_reply`` with the executor hop made inside a copy of the current context."""
    agent, *rest = args if instance is None else (instance, *args)
    loop = asyncio.get_running_loop()
    call = contextvars.copy_context().run
    return await loop.run_in_executor(None, lambda: call(agent.generate_oai_reply, *rest, **kwargs))


class ExecutorContextCarrier:
    """Gives each agent's async LLM reply function a context-carrying twin, per agent, reversibly."""

    def __init__(self, original: Any) -> None:
        self.original = original
        self.carrying = FunctionWrapper(original, _run_sync_reply_with_context)
        self._agents: weakref.WeakSet[Any] = weakref.WeakSet()

    def prepare(self, agent: Any) -> None:
        """Swap the agent's reply entry on its first async turn (cheap no-op afterwards)."""
        if agent in self._agents:
            return
        self._swap(agent, self.original, self.carrying)
        self._agents.add(agent)

    def restore_all(self) -> None:
        """Put every touched agent's original reply function back."""
        for agent in list(self._agents):
            self._swap(agent, self.carrying, self.original)
        self._agents.clear()

    @staticmethod
    def _swap(agent: Any, old: Any, new: Any) -> None:
        for entry in getattr(agent, "_reply_func_list", ()):
            if entry.get("reply_func") is old:
                entry["reply_func"] = new
