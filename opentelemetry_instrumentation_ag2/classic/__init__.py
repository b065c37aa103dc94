"""The classic AG2 line (``import autogen``, AG2 0.x): its patches, applied and undone together.

Modules here know ``autogen``; they share the span, attribute, settings, metrics and content core with
the AG2 1.x line (:mod:`opentelemetry_instrumentation_ag2.v1`) and never import it.
"""

from __future__ import annotations

import importlib.util
import sys

from opentelemetry_instrumentation_ag2.classic import modules
from opentelemetry_instrumentation_ag2.classic.a2a_client import a2a_client_patches
from opentelemetry_instrumentation_ag2.classic.a2a_server import a2a_server_patches
from opentelemetry_instrumentation_ag2.classic.agents import AgentSpans, agent_patches
from opentelemetry_instrumentation_ag2.classic.context_carry import ThreadContextCarrier, executor_hop_patch
from opentelemetry_instrumentation_ag2.classic.group_chat import group_chat_patches
from opentelemetry_instrumentation_ag2.classic.llm import llm_patches
from opentelemetry_instrumentation_ag2.classic.own_tracing import OwnTracingSetAside
from opentelemetry_instrumentation_ag2.classic.reply_swaps import ReplyFunctionSwaps
from opentelemetry_instrumentation_ag2.classic.tool_failures import ToolFunctions
from opentelemetry_instrumentation_ag2.patching import Patch, WhenImported
from opentelemetry_instrumentation_ag2.spans import TracingSession

IMPORT_NAME = "autogen"


def _agent_class() -> type | None:
    """AG2's ``ConversableAgent``, every agent's class (``None`` if this release has it elsewhere)."""
    return getattr(sys.modules.get(modules.CONVERSABLE_AGENT), "ConversableAgent", None)


class ClassicLine:
    """Traces ``import autogen``: agents, LLM calls, group chats, and A2A once the application imports it."""

    def __init__(self) -> None:
        self._patches: list[Patch] = []
        self._threads = ThreadContextCarrier()
        self._swaps = ReplyFunctionSwaps()
        self._tools = ToolFunctions()
        self._own_tracing = OwnTracingSetAside()
        self._a2a_import = WhenImported(modules.A2A)

    @staticmethod
    def importable() -> bool:
        """Whether this process can import the classic line."""
        return importlib.util.find_spec(IMPORT_NAME) is not None

    def instrument(self, telemetry: TracingSession) -> None:
        """Apply every patch of the classic line for this telemetry."""
        swaps = self._swaps = ReplyFunctionSwaps()
        agent_spans = AgentSpans(telemetry, swaps, self._tools)
        patches = [
            executor_hop_patch(swaps),
            *agent_patches(agent_spans),
            *group_chat_patches(telemetry, agent_spans, swaps, self._own_tracing),
            *llm_patches(telemetry),
        ]
        self._patches = [patch for patch in patches if patch.apply()]
        self._reroute_ag2_own_tracing(patches)
        self._threads.install()

        def instrument_a2a() -> None:
            a2a_patches = [*a2a_client_patches(telemetry, swaps), *a2a_server_patches(telemetry, agent_spans)]
            self._patches += [patch for patch in a2a_patches if patch.apply()]

        self._a2a_import.arm(instrument_a2a)

    def _reroute_ag2_own_tracing(self, patches: list[Patch]) -> None:
        """Route what AG2's own tracing wrapped before ``instrument()`` through ours: its wrapper of a class
        function some of ``patches`` target, and its agents' wrappers."""
        self._own_tracing.reroute_functions(patches)
        agent_class = _agent_class()
        if agent_class is not None:
            self._own_tracing.reroute_agents(agent_class)

    def uninstrument(self) -> None:
        """Undo every patch, swap and carrier of the classic line."""
        self._a2a_import.disarm()
        for patch in self._patches:
            patch.remove()
        self._patches = []
        self._threads.uninstall()
        self._swaps.restore_all()
        self._tools.restore_all()
        self._own_tracing.restore_all()
