"""Context scopes the wrappers consult to shape the tree: the group chat under way, a speaker selection."""

from __future__ import annotations

import functools
from typing import Any

from opentelemetry import context, trace

GROUP_MANAGER = context.create_key("ag2-group-manager")
"""The ``GroupChatManager`` whose ``conversation`` span is current: its own turn and ``run_chat`` add no span."""

SELECTING_SPEAKER = context.create_key("ag2-selecting-speaker")
"""The ``speaker_selection`` span, set inside it: AG2's internal selection chat shows only the selecting
agent's turn."""

SELECTION_CHECKER = "checking_agent"
"""The name of the agent AG2 creates to validate a selected speaker's name."""


@functools.cache
def _runs_group_chats(agent_type: type) -> bool:
    return hasattr(agent_type, "run_chat")


def is_group_manager(agent: Any) -> bool:
    """Whether the agent runs a group chat (``GroupChatManager`` or a subclass); answered once per class."""
    return _runs_group_chats(type(agent))


def in_chat_of(agent: Any) -> bool:
    """Whether the current context is already inside this manager's group-chat conversation."""
    return context.get_value(GROUP_MANAGER) is agent


def selecting_speaker() -> bool:
    """Whether a speaker selection is under way in the current context."""
    return bool(context.get_value(SELECTING_SPEAKER))


def selection_span() -> trace.Span:
    """The ``speaker_selection`` span under way (a non-recording one when there is none)."""
    return context.get_value(SELECTING_SPEAKER) or trace.INVALID_SPAN  # type: ignore[return-value]
