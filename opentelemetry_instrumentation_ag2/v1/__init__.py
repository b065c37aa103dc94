"""The AG2 1.x line (``import ag2``): agent turns, LLM calls, tools and human input.

Modules here know ``ag2``; they share the span, attribute, settings, metrics and content core with the
classic line (:mod:`opentelemetry_instrumentation_ag2.classic`) and never import it. Nothing imports
``ag2`` until the application does.
"""

from __future__ import annotations

import importlib.util
import logging

from opentelemetry_instrumentation_ag2.patching import Patch, WhenImported
from opentelemetry_instrumentation_ag2.spans import Telemetry

logger = logging.getLogger(__name__)

IMPORT_NAME = "ag2"
AGENT_MODULE = "ag2.agent"


def patches(telemetry: Telemetry) -> list[Patch]:
    """Every class-level patch that traces AG2 1.x, for ``Patch.apply()`` / ``Patch.remove()``.

    One patch does it all: ``Agent._turn_scope``, which every turn opens, gets our middleware appended
    (see :mod:`.middleware`). Empty when AG2 1.x is not importable.
    """
    try:
        from opentelemetry_instrumentation_ag2.v1.middleware import TurnHooks, inject_tracing
    except ImportError:
        logger.debug("ag2 instrumentation: AG2 1.x is not importable", exc_info=True)
        return []
    return [Patch(AGENT_MODULE, "Agent._turn_scope", inject_tracing(TurnHooks(telemetry)))]


class V1Line:
    """Traces ``import ag2`` (1.x), patched when the application imports it."""

    def __init__(self) -> None:
        self._patches: list[Patch] = []
        self._import = WhenImported(AGENT_MODULE)

    @staticmethod
    def importable() -> bool:
        """Whether this process can import AG2 1.x (the classic releases have no ``ag2`` package)."""
        return importlib.util.find_spec(IMPORT_NAME) is not None

    def instrument(self, telemetry: Telemetry) -> None:
        """Apply the 1.x patches for this telemetry, now or when the application imports ``ag2``."""

        def apply() -> None:
            self._patches = [patch for patch in patches(telemetry) if patch.apply()]

        self._import.arm(apply)

    def uninstrument(self) -> None:
        """Undo the 1.x patches."""
        self._import.disarm()
        for patch in self._patches:
            patch.remove()
        self._patches = []
