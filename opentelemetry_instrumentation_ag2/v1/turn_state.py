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
    """One turn being traced: whose, in which conversation, calling which model config.

    It holds nothing the turn itself makes (its event, its conversation context, their streams): it sits in the
    turn's span context, which the OpenTelemetry context variable keeps as its last value after the turn; anything
    reachable from there at a garbage collection is promoted to the oldest generation, and the whole turn with it
    would make full collections more frequent.
    """

    agent: Any
    config: Any
    conversation_id: str
    """The turn's ``gen_ai.conversation.id``: its history's stream (continuations share it)."""
    model_attributes: dict[str, Any]
    """Provider and request model of the config (:func:`.model_config.model_attributes`), read once for the
    turn's span and its model calls' spans."""
    ag2_traced: bool = False
    """Whether AG2's own ``TelemetryMiddleware`` runs in the turn: then ours makes the turn's span at its
    ``on_turn``, and any span of the turn may be AG2's to adopt (:mod:`.own_tracing`)."""
    operation: Span | None = None
    """The maintenance operation (compaction, aggregation) AG2 announced in the turn and has not ended."""
    operation_started: int = 0
    """When that operation started (ns since the epoch)."""


def current_turn() -> Turn | None:
    """The traced turn the current context is in, if any."""
    turn = context.get_value(TURN)
    return turn if isinstance(turn, Turn) else None
