"""Token and cost roll-ups: every LLM call adds to its enclosing conversations, written when they end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry import context

from opentelemetry_instrumentation_ag2 import attributes as attr

USAGE = context.create_key("ag2-usage")


@dataclass
class Usage:
    """What the LLM calls of one conversation (nested ones included) consumed."""

    parent: Usage | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None
    """``None`` until a call reports a cost (AG2 1.x reports none)."""
    calls: int = 0

    def add(self, input_tokens: int | None, output_tokens: int | None, cost: float | None) -> None:
        """Count one LLM call here and in every enclosing conversation."""
        usage: Usage | None = self
        while usage is not None:
            usage.calls += 1
            usage.input_tokens += input_tokens or 0
            usage.output_tokens += output_tokens or 0
            if cost is not None:
                usage.cost = (usage.cost or 0.0) + cost
            usage = usage.parent

    def write(self, span: Any) -> None:
        """Put the totals on the conversation's span (nothing when no LLM was called)."""
        if self.calls:
            totals: dict[str, Any] = {
                attr.GEN_AI_USAGE_INPUT_TOKENS: self.input_tokens,
                attr.GEN_AI_USAGE_OUTPUT_TOKENS: self.output_tokens,
            }
            if self.cost is not None:
                totals[attr.AG2_USAGE_COST] = self.cost
            span.set_attributes(totals)


def new_usage() -> Usage:
    """A roll-up for a conversation starting in the current context."""
    parent = context.get_value(USAGE)
    return Usage(parent=parent if isinstance(parent, Usage) else None)


def current_usage() -> Usage | None:
    """The roll-up of the innermost conversation, if any."""
    usage = context.get_value(USAGE)
    return usage if isinstance(usage, Usage) else None
