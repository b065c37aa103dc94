"""Group chats: the ``conversation {manager}`` root, ``speaker_selection``, handoffs and why a chat ended.

* ``GroupChatManager.run_chat`` / ``a_run_chat`` make the root when a manager is run directly (a chat
  started with ``initiate_chat(manager)`` or a pattern already has it, see ``AgentSpans.conversation``).
* ``GroupChat.select_speaker`` / ``a_select_speaker`` — which every selection method, callable and
  pattern transition passes through — make ``speaker_selection`` with the candidates, the method and
  the selected agent; an LLM selection shows ``invoke_agent speaker_selection_agent → chat`` beneath it.
* ``determine_next_agent`` (the patterns' transition logic) records which agent handed over to which,
  and why; ``TerminationEvent`` puts AG2's termination reason on the conversation span.
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.classic import modules, scopes
from opentelemetry_instrumentation_ag2.classic.agents import AgentSpans
from opentelemetry_instrumentation_ag2.classic.own_tracing import OwnTracingSetAside
from opentelemetry_instrumentation_ag2.classic.reply_swaps import ReplyFunctionSwaps, as_method
from opentelemetry_instrumentation_ag2.encodable import encodable_text
from opentelemetry_instrumentation_ag2.patching import Patch
from opentelemetry_instrumentation_ag2.spans import (
    THIS_SPAN,
    ActiveSpan,
    SpanStart,
    Telemetry,
    current_conversation_span,
)

logger = logging.getLogger(__name__)

GROUPCHAT_MODULE = modules.GROUPCHAT
TERMINATE = "terminate"


def _name(agent: Any) -> str:
    if agent is None:
        return TERMINATE
    return encodable_text(agent if isinstance(agent, str) else str(getattr(agent, "name", agent)))


def _method_name(method: Any) -> str:
    if isinstance(method, str):
        return method
    return getattr(method, "__name__", type(method).__name__)


def handoff_reason(kwargs: dict) -> str:
    """Why ``determine_next_agent`` will pick its target, read from the group's state before it runs."""
    if kwargs.get("use_initial_agent"):
        return "initial_agent"
    last_speaker = kwargs.get("last_speaker")
    manager = getattr(last_speaker, "_group_manager", None)
    forced = getattr(manager, "_next_target_force", None)
    if forced is not None:
        return f"forced:{type(forced).__name__}"
    messages = kwargs["groupchat"].messages
    if messages and "tool_calls" in messages[-1]:
        return "tool_call"
    executor = kwargs.get("tool_executor")
    if executor is not None and executor.has_next_target():
        return f"tool_target:{type(executor.get_next_target()).__name__}"
    if messages and messages[-1].get("role") == "tool":
        return "after_tool"
    user = kwargs.get("user_agent")
    if user is not None and last_speaker is user and not user.handoffs.after_works:
        return "after_user"
    after_works = getattr(getattr(last_speaker, "handoffs", None), "after_works", None)
    if after_works:
        return f"after_work:{type(after_works[-1].target).__name__}"
    return f"group_after_work:{type(kwargs.get('group_after_work')).__name__}"


class GroupChatSpans:
    """Describes and finishes the spans and attributes of group chats."""

    def __init__(
        self,
        telemetry: Telemetry,
        agent_spans: AgentSpans,
        own_tracing: OwnTracingSetAside,
        no_speaker: tuple[type[BaseException], ...],
    ) -> None:
        self.telemetry = telemetry
        self.agent_spans = agent_spans
        self.own_tracing = own_tracing
        self.no_speaker = no_speaker
        """AG2's "no next speaker" exception: how a chat handed to termination ends, not a failure."""

    def run_chat(self, manager: Any, args: tuple, kwargs: dict) -> SpanStart | None:
        if scopes.managing(manager) or scopes.selecting_speaker():
            return None
        return self.agent_spans.group_conversation(manager)

    def resume(self, manager: Any, args: tuple, kwargs: dict) -> SpanStart:
        """``conversation {manager}`` of a group chat resumed from earlier messages."""
        attributes: dict[str, Any] = {
            attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_CONVERSATION,
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_CONVERSATION,
            attr.GEN_AI_AGENT_NAME: manager.name,
            attr.AG2_CONVERSATION_RESUMED: True,
        }
        return self.agent_spans.conversation_start(f"conversation {manager.name}", attributes, None)

    def selection(self, groupchat: Any, args: tuple, kwargs: dict) -> SpanStart:
        last_speaker = args[0] if args else kwargs.get("last_speaker")
        start = SpanStart(
            attr.SPEAKER_SELECTION_SPAN,
            {
                attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_SPEAKER_SELECTION,
                attr.GEN_AI_OPERATION_NAME: attr.OPERATION_SPEAKER_SELECTION,
                attr.AG2_SPEAKER_SELECTION_METHOD: _method_name(groupchat.speaker_selection_method),
                attr.AG2_SPEAKER_SELECTION_LAST_SPEAKER: _name(last_speaker),
            },
            context_values={scopes.SELECTING_SPEAKER: THIS_SPAN},
            expected=self.no_speaker,
        )
        self.own_tracing.set_aside(groupchat)  # AG2's own wrappers would trace this selection a second time
        return start

    @staticmethod
    def selected(span: ActiveSpan, agent: Any) -> None:
        span.set_attribute(attr.AG2_SPEAKER_SELECTION_SELECTED, _name(agent))

    def note_candidates(self, wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
        """wrapt wrapper for ``GroupChat._prepare_and_select_agents``: the eligible agents."""
        result = wrapped(*args, **kwargs)
        if scopes.selecting_speaker():
            try:
                scopes.selection_span().set_attribute(
                    attr.AG2_SPEAKER_SELECTION_CANDIDATES, [_name(agent) for agent in result[1]]
                )
            except Exception:
                logger.debug("ag2 instrumentation failed to read the candidates", exc_info=True)
        return result

    def note_handoff(self, wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
        """wrapt wrapper for ``determine_next_agent``: source, target and reason of the transition."""
        if not scopes.selecting_speaker():
            return wrapped(*args, **kwargs)
        try:
            reason = handoff_reason(kwargs)
        except Exception:
            logger.debug("ag2 instrumentation failed to read the handoff state", exc_info=True)
            reason = None
        target = wrapped(*args, **kwargs)
        span = scopes.selection_span()
        span.set_attribute(attr.AG2_HANDOFF_SOURCE, _name(kwargs.get("last_speaker")))
        span.set_attribute(attr.AG2_HANDOFF_TARGET, _name(target))
        if target is None:  # AG2 ends the chat by raising "no eligible speaker"
            span.set_attribute(attr.AG2_SPEAKER_SELECTION_SELECTED, TERMINATE)
        if reason:
            span.set_attribute(attr.AG2_HANDOFF_REASON, reason)
        return target

    def note_termination(self, wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
        """wrapt wrapper for ``TerminationEvent.__init__``: the reason onto the conversation span."""
        result = wrapped(*args, **kwargs)
        span = current_conversation_span()
        if span is not None and self.telemetry.enabled and not scopes.selecting_speaker():
            reason = kwargs.get("termination_reason")
            if isinstance(reason, str):
                span.set_attribute(attr.AG2_TERMINATION_REASON, reason)
        return result


def group_chat_patches(
    telemetry: Telemetry, agent_spans: AgentSpans, swaps: ReplyFunctionSwaps, own_tracing: OwnTracingSetAside
) -> list[Patch]:
    """The group-chat patches (and the reply-function swap for managers built before ``instrument()``)."""
    from autogen.agentchat.groupchat import GroupChatManager
    from autogen.exception_utils import NoEligibleSpeakerError

    spans = GroupChatSpans(telemetry, agent_spans, own_tracing, (NoEligibleSpeakerError,))
    traced = telemetry.traced
    run_chat = traced(spans.run_chat)
    a_run_chat = traced(spans.run_chat, is_async=True)
    swaps.add(GroupChatManager.run_chat, as_method(run_chat))
    swaps.add(GroupChatManager.a_run_chat, as_method(a_run_chat))
    return [
        Patch(GROUPCHAT_MODULE, "GroupChatManager.resume", traced(spans.resume)),
        Patch(GROUPCHAT_MODULE, "GroupChatManager.a_resume", traced(spans.resume, is_async=True)),
        Patch(GROUPCHAT_MODULE, "GroupChatManager.run_chat", run_chat),
        Patch(GROUPCHAT_MODULE, "GroupChatManager.a_run_chat", a_run_chat),
        Patch(GROUPCHAT_MODULE, "GroupChat.select_speaker", traced(spans.selection, spans.selected)),
        Patch(GROUPCHAT_MODULE, "GroupChat.a_select_speaker", traced(spans.selection, spans.selected, is_async=True)),
        Patch(GROUPCHAT_MODULE, "GroupChat._prepare_and_select_agents", spans.note_candidates),
        Patch(modules.GROUP_UTILS, "determine_next_agent", spans.note_handoff),
        Patch(modules.AGENT_EVENTS, "TerminationEvent.__init__", spans.note_termination),
    ]
