"""The AG2 1.x line (``import ag2``): agent turns, LLM calls, tools, human input, A2A and ``ag2.network`` runs.

Modules here know ``ag2``; they share the span, attribute, settings, metrics and content core with the
classic line (:mod:`opentelemetry_instrumentation_ag2.classic`) and never import it. Nothing imports
``ag2`` until the application does.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from opentelemetry_instrumentation_ag2.patching import Patch, WhenImported
from opentelemetry_instrumentation_ag2.spans import TracingSession
from opentelemetry_instrumentation_ag2.v1.network import NETWORK_MODULE, network_patches

logger = logging.getLogger(__name__)

IMPORT_NAME = "ag2"
AGENT_MODULE = "ag2.agent"
CONTEXT_MODULE = "ag2.context"
A2A_MODULE = "ag2.a2a"
"""Patched once the application imports it: an application without A2A never loads a2a-sdk, grpc, starlette."""
AG_UI_MODULE = "ag2.ag_ui.asgi"
ACP_MODULE = "ag2.acp"
"""Like A2A, patched only once the application imports them."""
MCP_MODULE = "mcp.shared.jsonrpc_dispatcher"
"""The mcp SDK's message dispatcher (see :mod:`.mcp`)."""
MCP_1_SERVER_MODULE = "mcp.server.lowlevel.server"
"""The mcp SDK 1.x server, which carries no trace context of its own (see :mod:`.mcp`)."""


def patches(telemetry: TracingSession) -> list[Patch]:
    """Every class-level patch that traces AG2 1.x, for ``Patch.apply()`` / ``Patch.remove()``.

    ``Agent._turn_scope``, which every turn opens, gets our middleware appended and its ``drive`` wrapped
    in the turn's span (:mod:`.turns`); continuations that switch model say which config their turn calls
    (:mod:`.turn_config`); AG2's default human-input answer gets our middleware in front
    (:mod:`.middleware`); ``ConversationContext.send`` is watched for the work AG2 does beside the chain
    (:mod:`.off_chain`). Empty when AG2 1.x is not importable.
    """
    try:
        from opentelemetry_instrumentation_ag2.v1.middleware import TurnHooks, trace_default_human_input
        from opentelemetry_instrumentation_ag2.v1.off_chain import OffChainSpans
        from opentelemetry_instrumentation_ag2.v1.turn_config import continuation_wrapper, run_wrapper
        from opentelemetry_instrumentation_ag2.v1.turns import inject_tracing
    except ImportError:
        logger.debug("ag2 instrumentation: AG2 1.x is not importable", exc_info=True)
        return []
    return [
        Patch(AGENT_MODULE, "Agent._turn_scope", inject_tracing(TurnHooks(telemetry))),
        Patch(AGENT_MODULE, "Agent._make_run", run_wrapper),
        Patch(AGENT_MODULE, "AgentReply.ask", continuation_wrapper),
        Patch(AGENT_MODULE, "default_hitl_hook", trace_default_human_input),
        Patch(CONTEXT_MODULE, "ConversationContext.send", OffChainSpans(telemetry).send_wrapper),
    ]


def a2a_patches(telemetry: TracingSession) -> list[Patch]:
    """The A2A patches of the 1.x line, client and server (see :mod:`.a2a_client`, :mod:`.a2a_server`)."""
    from opentelemetry_instrumentation_ag2.v1.a2a_client import a2a_client_patches
    from opentelemetry_instrumentation_ag2.v1.a2a_server import a2a_server_patches

    return [*a2a_client_patches(telemetry), *a2a_server_patches(telemetry)]


def ag_ui_patches(telemetry: TracingSession) -> list[Patch]:
    """The AG-UI server patch (see :mod:`.ag_ui`)."""
    from opentelemetry_instrumentation_ag2.v1.ag_ui import ag_ui_patches

    return ag_ui_patches(telemetry)


def acp_patches(telemetry: TracingSession) -> list[Patch]:
    """The ACP patches, agent and client side (see :mod:`.acp`)."""
    from opentelemetry_instrumentation_ag2.v1.acp import acp_patches

    return acp_patches(telemetry)


def mcp_patches(telemetry: TracingSession) -> list[Patch]:
    """The MCP patch: notifications sent within a turn carry its trace context (see :mod:`.mcp`)."""
    from opentelemetry_instrumentation_ag2.v1.mcp import mcp_patches

    return mcp_patches(telemetry)


def mcp_1_server_patches(telemetry: TracingSession) -> list[Patch]:
    """On mcp 1.x: its server continues the caller's context (see :mod:`.mcp`)."""
    from opentelemetry_instrumentation_ag2.v1.mcp import mcp_1_server_patches

    return mcp_1_server_patches(telemetry)


PATCHED_ON_IMPORT = (
    (AGENT_MODULE, patches),
    (A2A_MODULE, a2a_patches),
    (NETWORK_MODULE, network_patches),
    (AG_UI_MODULE, ag_ui_patches),
    (ACP_MODULE, acp_patches),
    (MCP_MODULE, mcp_patches),
    (MCP_1_SERVER_MODULE, mcp_1_server_patches),
)
"""Each module's patches, applied when the application imports it (at once if it has)."""


class V1Line:
    """Traces ``import ag2`` (1.x): turns when the application imports ``ag2``, A2A and Hub runs when it
    imports those."""

    def __init__(self) -> None:
        self._patches: list[Patch] = []
        self._imports = {module: WhenImported(module) for module, _ in PATCHED_ON_IMPORT}

    @staticmethod
    def importable() -> bool:
        """Whether this process can import AG2 1.x (the classic releases have no ``ag2`` package)."""
        return importlib.util.find_spec(IMPORT_NAME) is not None

    def instrument(self, telemetry: TracingSession) -> None:
        """Apply the 1.x patches for this telemetry, now or when the application imports their modules."""
        for module, made_by in PATCHED_ON_IMPORT:

            def apply(made_by: Any = made_by) -> None:
                self._patches += [patch for patch in made_by(telemetry) if patch.apply()]

            self._imports[module].arm(apply)

    def uninstrument(self) -> None:
        """Undo the 1.x patches."""
        for waiting in self._imports.values():
            waiting.disarm()
        for patch in self._patches:
            patch.remove()
        self._patches = []
