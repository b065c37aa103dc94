"""Carry the OpenTelemetry context across the thread hops AG2 makes, so nothing becomes a separate trace.

AG2 loses the context in two places:

* ``run()`` / ``run_iter()`` / ``initiate_chats`` and the group-chat runners start a ``threading.Thread``;
  we give those modules a ``threading`` whose ``Thread`` carries the creator's context.
* ``a_generate_oai_reply`` calls the sync LLM path through ``loop.run_in_executor``, which copies no
  context; :func:`run_sync_reply_in_context` makes the same hop inside a copy of it. (Agents reach it
  through their ``_reply_func_list`` too: see :mod:`.reply_swaps`.)
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import threading
import types
from typing import Any

from opentelemetry import context

from opentelemetry_instrumentation_ag2.classic import modules
from opentelemetry_instrumentation_ag2.classic.reply_swaps import ReplyFunctionSwaps
from opentelemetry_instrumentation_ag2.patching import Patch

THREADING_MODULES = (modules.CONVERSABLE_AGENT, modules.MULTI_AGENT_CHAT)


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


async def run_sync_reply_in_context(wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
    """wrapt wrapper for ``a_generate_oai_reply``: the same executor hop, made inside a copy of the context.

    Works bound (``agent.a_generate_oai_reply(...)``, as AG2's A2A server calls it) and unbound
    (``reply_func(agent, ...)``, as ``a_generate_reply`` calls it).
    """
    agent, rest = (instance, args) if instance is not None else (args[0], args[1:])
    loop = asyncio.get_running_loop()
    run_in_context = contextvars.copy_context().run
    return await loop.run_in_executor(None, lambda: run_in_context(agent.generate_oai_reply, *rest, **kwargs))


def executor_hop_patch(swaps: ReplyFunctionSwaps) -> Patch:
    """The patch carrying the context across ``a_generate_oai_reply``'s executor hop, for agents built from now
    on (the class) and before (their reply-function entries, swapped by ``swaps``)."""
    from autogen.agentchat.conversable_agent import ConversableAgent

    swaps.add(ConversableAgent.a_generate_oai_reply, run_sync_reply_in_context)
    return Patch(modules.CONVERSABLE_AGENT, "ConversableAgent.a_generate_oai_reply", run_sync_reply_in_context)
