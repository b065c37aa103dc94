"""Spans for local agents: conversations, agent turns, tools, human input and code execution."""

from __future__ import annotations

import uuid
from typing import Any

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.classic import modules, scopes
from opentelemetry_instrumentation_ag2.classic.a2a_client import is_remote
from opentelemetry_instrumentation_ag2.classic.models import DEFAULT_PROVIDER, config_value, first_config
from opentelemetry_instrumentation_ag2.classic.reply_swaps import ReplyFunctionSwaps
from opentelemetry_instrumentation_ag2.classic.tool_failures import TOOL_CALL, ToolCall, ToolFunctions
from opentelemetry_instrumentation_ag2.content import as_text, messages_json, output_json
from opentelemetry_instrumentation_ag2.model_request import provider_name
from opentelemetry_instrumentation_ag2.patching import Patch
from opentelemetry_instrumentation_ag2.signals import Measure
from opentelemetry_instrumentation_ag2.spans import ActiveSpan, SpanStart, TracingSession, current_agent
from opentelemetry_instrumentation_ag2.usage import USAGE, new_usage

AGENT_MODULE = modules.CONVERSABLE_AGENT


def tool_error_type(name: Any, message: Any) -> str:
    """``error.type`` of a failed tool call, told apart by the message AG2 turns the failure into."""
    if message == f"Error: Function {name} not found.":
        return attr.TOOL_NOT_FOUND
    if isinstance(message, str) and message.endswith("\n The argument must be in JSON format."):
        return attr.TOOL_ARGUMENTS_ERROR
    return attr.TOOL_ERROR


def tool_description(executor: Any, name: str) -> str | None:
    """The description the tool was registered with: on the executor, or on an agent it chats with (the caller
    that offered the tool to its model)."""
    for agent in (executor, *getattr(executor, "chat_messages", {})):
        for tool in getattr(agent, "_tools", ()):
            if getattr(tool, "name", None) == name and getattr(tool, "description", None):
                return tool.description
    return None


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


class AgentSpans:
    """Describes and finishes the spans of ``ConversableAgent`` methods."""

    def __init__(self, telemetry: TracingSession, swaps: ReplyFunctionSwaps, tools: ToolFunctions) -> None:
        self.telemetry = telemetry
        self.swaps = swaps
        self.tools = tools

    @property
    def _content(self) -> bool:
        return self.telemetry.capture_content

    def conversation(self, agent: Any, args: tuple, kwargs: dict) -> SpanStart | None:
        if scopes.selecting_speaker():
            return None  # AG2's internal speaker-selection chat is part of the speaker_selection span
        recipient = _arg(args, kwargs, 0, "recipient")
        if recipient is not None and scopes.is_group_manager(recipient):
            if scopes.in_chat_of(recipient):
                return None
            return self.group_conversation(recipient, initiator=agent, kwargs=kwargs)
        attributes: dict[str, Any] = {
            attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_CONVERSATION,
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_CONVERSATION,
            attr.GEN_AI_AGENT_NAME: agent.name,
        }
        if recipient is not None:
            attributes[attr.AG2_RECIPIENT_NAME] = getattr(recipient, "name", str(recipient))
        max_turns = kwargs.get("max_turns")
        if max_turns:
            attributes[attr.AG2_CONVERSATION_MAX_TURNS] = max_turns
        return self.conversation_start(f"conversation {agent.name}", attributes, kwargs.get("message"))

    def conversation_start(
        self, name: str, attributes: dict[str, Any], message: Any, context_values: dict | None = None
    ) -> SpanStart:
        usage = new_usage()
        start = SpanStart(
            name,
            attributes,
            conversation_id=uuid.uuid4().hex,
            context_values={USAGE: usage, **(context_values or {})},
            event_name=attr.EVENT_CONVERSATION_DETAILS,
            on_end=lambda active: usage.write(active),
        )
        if self._content and isinstance(message, (str, dict)):
            start.content[attr.GEN_AI_INPUT_MESSAGES] = messages_json([message])
        return start

    def group_conversation(self, manager: Any, initiator: Any = None, kwargs: dict | None = None) -> SpanStart:
        """``conversation {manager}``: the root of a group chat, however it was started."""
        attributes: dict[str, Any] = {
            attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_CONVERSATION,
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_CONVERSATION,
            attr.GEN_AI_AGENT_NAME: manager.name,
        }
        if initiator is not None:
            attributes[attr.AG2_INITIATOR_NAME] = initiator.name
        groupchat = getattr(manager, "groupchat", None)
        if groupchat is not None:
            attributes[attr.AG2_GROUP_MAX_ROUND] = groupchat.max_round
            attributes[attr.AG2_GROUP_AGENTS] = [agent.name for agent in groupchat.agents]
        message = (kwargs or {}).get("message")
        return self.conversation_start(
            f"conversation {manager.name}", attributes, message, {scopes.GROUP_MANAGER: manager}
        )

    def conversation_result(self, span: ActiveSpan, result: Any) -> None:
        span.set_attributes(
            {attr.AG2_CHAT_ID: str(result.chat_id), attr.AG2_CONVERSATION_TURNS: len(result.chat_history)}
        )
        if self._content and result.summary:
            span.set_content(attr.GEN_AI_OUTPUT_MESSAGES, output_json(result.summary))

    def initiate_chats(self, agent: Any, args: tuple, kwargs: dict) -> SpanStart:
        chat_queue = _arg(args, kwargs, 0, "chat_queue", ())
        return SpanStart(
            f"initiate_chats {agent.name}",
            {
                attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_MULTI_CONVERSATION,
                attr.GEN_AI_OPERATION_NAME: attr.OPERATION_INITIATE_CHATS,
                attr.GEN_AI_AGENT_NAME: agent.name,
                attr.AG2_CHATS_COUNT: len(chat_queue),
            },
        )

    def invoke_agent(self, agent: Any, args: tuple, kwargs: dict) -> SpanStart | None:
        if current_agent() is agent:
            return None  # already inside this agent's turn (e.g. an A2A server's turn)
        if scopes.is_group_manager(agent) and scopes.in_chat_of(agent):
            return None  # the manager's turn is the group chat: its conversation span says it
        if agent.name == scopes.SELECTION_CHECKER and scopes.selecting_speaker():
            return None
        return self.agent_turn(agent, args, kwargs)

    def agent_turn(self, agent: Any, args: tuple, kwargs: dict) -> SpanStart:
        """The ``invoke_agent`` span of one turn of a local agent."""
        attributes: dict[str, Any] = {
            attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_AGENT,
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_INVOKE_AGENT,
            attr.GEN_AI_AGENT_NAME: agent.name,
        }
        description = getattr(agent, "description", None)
        if description and description != getattr(agent, "system_message", None):
            # AG2 defaults the description to the system message, which is content: only an explicit one is kept
            attributes[attr.GEN_AI_AGENT_DESCRIPTION] = description
        config = first_config(getattr(agent, "llm_config", None))
        if config is not None:
            attributes[attr.GEN_AI_PROVIDER_NAME] = provider_name(config_value(config, "api_type"), DEFAULT_PROVIDER)
            model = config_value(config, "model")
            if model:
                attributes[attr.GEN_AI_REQUEST_MODEL] = model
        start = SpanStart(
            f"invoke_agent {agent.name}",
            attributes,
            agent=agent,
            measure=Measure.AGENT,
            event_name=attr.EVENT_AGENT_DETAILS,
        )
        if self._content:
            messages = _arg(args, kwargs, 0, "messages")
            sender = _arg(args, kwargs, 1, "sender")
            if messages is None and sender is not None:
                messages = agent.chat_messages.get(sender)
            if messages:  # the message this turn answers; earlier ones are on earlier turns
                start.content[attr.GEN_AI_INPUT_MESSAGES] = messages_json(messages[-1:])
        return start

    def invoke_agent_sync(self, agent: Any, args: tuple, kwargs: dict) -> SpanStart | None:
        self.swaps.prepare(agent)
        return self.invoke_agent(agent, args, kwargs)

    def invoke_agent_async(self, agent: Any, args: tuple, kwargs: dict) -> SpanStart | None:
        self.swaps.prepare(agent)
        if is_remote(agent):
            return None  # its remote reply makes the one CLIENT span of the call
        return self.invoke_agent(agent, args, kwargs)

    def reply(self, span: ActiveSpan, reply: Any) -> None:
        """The reply as content (installed only while content capture is on)."""
        if reply is not None:
            span.set_content(attr.GEN_AI_OUTPUT_MESSAGES, output_json(reply))

    def execute_tool(self, agent: Any, args: tuple, kwargs: dict) -> SpanStart:
        func_call = _arg(args, kwargs, 0, "func_call") or {}
        name = func_call.get("name") or ""
        attributes: dict[str, Any] = {
            attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_TOOL,
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_EXECUTE_TOOL,
            attr.GEN_AI_TOOL_NAME: name,
            attr.GEN_AI_TOOL_TYPE: "function",
            attr.GEN_AI_AGENT_NAME: agent.name,
        }
        call_id = _arg(args, kwargs, 1, "call_id")
        if call_id:
            attributes[attr.GEN_AI_TOOL_CALL_ID] = call_id
        description = tool_description(agent, name)
        if description:
            attributes[attr.GEN_AI_TOOL_DESCRIPTION] = description
        self.tools.prepare(agent, name)
        call = ToolCall()
        start = SpanStart(
            f"execute_tool {name}",
            attributes,
            call=call,
            context_values={TOOL_CALL: call},
            measure=Measure.TOOL,
            event_name=attr.EVENT_TOOL_DETAILS,
        )
        if self._content:
            start.content[attr.GEN_AI_TOOL_CALL_ARGUMENTS] = as_text(func_call.get("arguments", "{}"))
        return start

    def tool_result(self, span: ActiveSpan, result: Any) -> None:
        succeeded, outcome = result
        message = (outcome or {}).get("content")
        if not succeeded:
            raised = span.call.exception
            if raised is not None:
                span.fail_with(raised)
            else:
                span.fail(tool_error_type(span.attributes.get(attr.GEN_AI_TOOL_NAME), message))
        if self._content:
            span.set_content(attr.GEN_AI_TOOL_CALL_RESULT, as_text(message))

    def human_input(self, agent: Any, args: tuple, kwargs: dict) -> SpanStart:
        attributes: dict[str, Any] = {
            attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_HUMAN_INPUT,
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_HUMAN_INPUT,
            attr.GEN_AI_AGENT_NAME: agent.name,
            attr.AG2_HUMAN_INPUT_MODE: str(getattr(agent, "human_input_mode", "")),
        }
        start = SpanStart(f"await_human_input {agent.name}", attributes, event_name=attr.EVENT_HUMAN_INPUT_DETAILS)
        if self._content:
            start.content[attr.AG2_HUMAN_INPUT_PROMPT] = as_text(_arg(args, kwargs, 0, "prompt", ""))
        return start

    def human_reply(self, span: ActiveSpan, reply: Any) -> None:
        """The human's answer as content (installed only while content capture is on)."""
        span.set_content(attr.AG2_HUMAN_INPUT_RESPONSE, as_text(reply))

    def execute_code(self, owner: Any, args: tuple, kwargs: dict) -> SpanStart:
        agent_name = getattr(owner, "name", None) or getattr(current_agent(), "name", None) or "code_executor"
        blocks = _arg(args, kwargs, 0, "code_blocks") or ()
        languages = sorted({str(_block_part(block, 0)) for block in blocks})
        attributes: dict[str, Any] = {
            attr.AG2_SPAN_TYPE: attr.SPAN_TYPE_CODE_EXECUTION,
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_EXECUTE_CODE,
            attr.GEN_AI_AGENT_NAME: agent_name,
            attr.AG2_CODE_LANGUAGES: languages,
        }
        start = SpanStart(f"execute_code {agent_name}", attributes, event_name=attr.EVENT_CODE_DETAILS)
        if self._content:
            start.content[attr.AG2_CODE_BLOCKS] = as_text([_block_part(block, 1) for block in blocks])
        return start

    def code_result(self, span: ActiveSpan, result: Any) -> None:
        if isinstance(result, tuple):
            exit_code, output = result[0], result[1]
        else:
            exit_code, output = result.exit_code, result.output
        span.set_attribute(attr.AG2_CODE_EXIT_CODE, int(exit_code))
        if exit_code != 0:
            span.fail(attr.CODE_ERROR)
        if self._content:
            span.set_content(attr.AG2_CODE_OUTPUT, as_text(output))


def _block_part(block: Any, index: int) -> Any:
    if isinstance(block, (tuple, list)):
        return block[index]
    return block.language if index == 0 else block.code


def agent_patches(spans: AgentSpans) -> list[Patch]:
    """Every class-level patch that traces local agents."""
    traced = spans.telemetry.traced
    agent = "ConversableAgent."
    content = spans.telemetry.capture_content
    reply, human_reply = (spans.reply, spans.human_reply) if content else (None, None)  # they only read content
    patches = [
        Patch(AGENT_MODULE, agent + "initiate_chat", traced(spans.conversation, spans.conversation_result)),
        Patch(
            AGENT_MODULE,
            agent + "a_initiate_chat",
            traced(spans.conversation, spans.conversation_result, is_async=True),
        ),
        Patch(AGENT_MODULE, agent + "initiate_chats", traced(spans.initiate_chats)),
        Patch(AGENT_MODULE, agent + "a_initiate_chats", traced(spans.initiate_chats, is_async=True)),
        Patch(AGENT_MODULE, agent + "generate_reply", traced(spans.invoke_agent_sync, reply)),
        Patch(AGENT_MODULE, agent + "a_generate_reply", traced(spans.invoke_agent_async, reply, is_async=True)),
        Patch(AGENT_MODULE, agent + "execute_function", traced(spans.execute_tool, spans.tool_result)),
        Patch(AGENT_MODULE, agent + "a_execute_function", traced(spans.execute_tool, spans.tool_result, is_async=True)),
        Patch(AGENT_MODULE, agent + "get_human_input", traced(spans.human_input, human_reply)),
        Patch(AGENT_MODULE, agent + "a_get_human_input", traced(spans.human_input, human_reply, is_async=True)),
        Patch(AGENT_MODULE, agent + "execute_code_blocks", traced(spans.execute_code, spans.code_result)),
    ]
    code_wrapper = traced(spans.execute_code, spans.code_result)
    patches += [Patch(module, cls + ".execute_code_blocks", code_wrapper) for module, cls in modules.CODE_EXECUTORS]
    return patches
