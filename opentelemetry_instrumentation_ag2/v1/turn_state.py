"""What a traced 1.x turn carries in its span's context, for the work AG2 does beside its middleware chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry import context
from opentelemetry.trace import Span

TURN = context.create_key("ag2-v1-turn")
"""The context value of a traced turn's span: its :class:`Turn`."""


@dataclass(slots=True)
class Turn:
    """One turn being traced: whose, from which event, on which history, calling which model config."""

    agent: Any
    event: Any
    context: Any
    config: Any
    operation: Span | None = None
    """The maintenance operation (compaction, aggregation) AG2 announced in the turn and has not ended."""
    operation_started: int = 0
    """When that operation started (ns since the epoch)."""


def current_turn() -> Turn | None:
    """The traced turn the current context is in, if any."""
    turn = context.get_value(TURN)
    return turn if isinstance(turn, Turn) else None
