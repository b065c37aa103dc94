"""Attribute names and fixed values: OpenTelemetry GenAI conventions plus AG2's own ``ag2.*``.

Stable keys (``server.*``, ``url.*``, ``http.*``, ``client.*``, ``error.type``) come from
``opentelemetry.semconv.attributes``. The ``gen_ai.*`` ones are plain strings on purpose: the
semantic-conventions package marks its ``gen_ai`` constants deprecated. The few ``gen_ai.*`` keys the
conventions do not define are the ones AG2's own tracing emits (``gen_ai.usage.cost``,
``gen_ai.conversation.max_turns`` / ``.turns`` / ``.resumed``, ``gen_ai.agent.remote``), kept so that
queries written for it keep working; everything else AG2-specific is ``ag2.*``.
"""

from opentelemetry.semconv.attributes import (
    client_attributes,
    error_attributes,
    http_attributes,
    server_attributes,
    url_attributes,
)

# GenAI semantic conventions
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_AGENT_DESCRIPTION = "gen_ai.agent.description"
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p"
GEN_AI_REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_SEED = "gen_ai.request.seed"
GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count"
GEN_AI_OUTPUT_TYPE = "gen_ai.output.type"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id"
GEN_AI_TOOL_TYPE = "gen_ai.tool.type"
GEN_AI_TOOL_DESCRIPTION = "gen_ai.tool.description"
GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result"
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
GEN_AI_TOOL_DEFINITIONS = "gen_ai.tool.definitions"
GEN_AI_AGENT_REMOTE = "gen_ai.agent.remote"
ERROR_TYPE = error_attributes.ERROR_TYPE
SERVER_ADDRESS = server_attributes.SERVER_ADDRESS
SERVER_PORT = server_attributes.SERVER_PORT

# AG2-specific (the names AG2's own tracing uses, so dashboards keep working)
AG2_SPAN_TYPE = "ag2.span.type"
AG2_USAGE_COST = "gen_ai.usage.cost"
AG2_CONVERSATION_MAX_TURNS = "gen_ai.conversation.max_turns"
AG2_CONVERSATION_TURNS = "gen_ai.conversation.turns"
AG2_CHAT_ID = "ag2.chat.id"
AG2_CACHE_HIT = "ag2.cache.hit"
AG2_CONVERSATION_RESUMED = "gen_ai.conversation.resumed"
AG2_CHATS_COUNT = "ag2.chats.count"
AG2_RECIPIENT_NAME = "ag2.recipient.name"
AG2_INITIATOR_NAME = "ag2.initiator.name"
AG2_HUMAN_INPUT_MODE = "ag2.human_input.mode"
AG2_HUMAN_INPUT_PROMPT = "ag2.human_input.prompt"
AG2_HUMAN_INPUT_RESPONSE = "ag2.human_input.response"
AG2_CODE_LANGUAGES = "ag2.code_execution.languages"
AG2_CODE_BLOCKS = "ag2.code_execution.blocks"
AG2_CODE_EXIT_CODE = "ag2.code_execution.exit_code"
AG2_CODE_OUTPUT = "ag2.code_execution.output"

# ag2.span.type values
SPAN_TYPE_CONVERSATION = "conversation"
SPAN_TYPE_MULTI_CONVERSATION = "multi_conversation"
SPAN_TYPE_AGENT = "agent"
SPAN_TYPE_LLM = "llm"
SPAN_TYPE_TOOL = "tool"
SPAN_TYPE_HUMAN_INPUT = "human_input"
SPAN_TYPE_CODE_EXECUTION = "code_execution"

# gen_ai.operation.name values
OPERATION_CONVERSATION = "conversation"
OPERATION_INITIATE_CHATS = "initiate_chats"
OPERATION_INVOKE_AGENT = "invoke_agent"
OPERATION_CHAT = "chat"
OPERATION_EXECUTE_TOOL = "execute_tool"
OPERATION_HUMAN_INPUT = "await_human_input"
OPERATION_EXECUTE_CODE = "execute_code"

# Error types for failures AG2 reports as values rather than exceptions
TOOL_ERROR = "ToolExecutionError"
TOOL_NOT_FOUND = "ToolNotFoundError"
"""``error.type`` of a tool call naming a function the executing agent does not have."""
TOOL_ARGUMENTS_ERROR = "ToolArgumentsError"
"""``error.type`` of a tool call whose arguments are not JSON."""
CODE_ERROR = "CodeExecutionError"

# AG2 api_type -> gen_ai.provider.name (well-known values of the conventions where one exists)
PROVIDER_BY_API_TYPE = {
    "openai": "openai",
    "azure": "azure.ai.openai",
    "anthropic": "anthropic",
    "google": "gcp.gemini",
    "gemini": "gcp.gemini",
    "vertexai": "gcp.vertex_ai",
    "bedrock": "aws.bedrock",
    "mistral": "mistral_ai",
    "groq": "groq",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "together": "together_ai",
    "ollama": "ollama",
    "cerebras": "cerebras",
    "responses": "openai",
}

# A2A
A2A_CONTEXT_ID = "a2a.context.id"
A2A_TASK_ID = "a2a.task.id"
A2A_TASK_STATE = "a2a.task.state"
RPC_SYSTEM_NAME = "rpc.system.name"
RPC_METHOD = "rpc.method"
HTTP_REQUEST_METHOD = http_attributes.HTTP_REQUEST_METHOD
HTTP_ROUTE = http_attributes.HTTP_ROUTE
HTTP_RESPONSE_STATUS_CODE = http_attributes.HTTP_RESPONSE_STATUS_CODE
URL_PATH = url_attributes.URL_PATH
URL_SCHEME = url_attributes.URL_SCHEME
CLIENT_ADDRESS = client_attributes.CLIENT_ADDRESS
A2A_EXECUTION_SPAN = "a2a-execution"

# Group chats
AG2_SPEAKER_SELECTION_METHOD = "ag2.speaker_selection.method"
AG2_SPEAKER_SELECTION_LAST_SPEAKER = "ag2.speaker_selection.last_speaker"
AG2_SPEAKER_SELECTION_CANDIDATES = "ag2.speaker_selection.candidates"
AG2_SPEAKER_SELECTION_SELECTED = "ag2.speaker_selection.selected"
AG2_HANDOFF_SOURCE = "ag2.handoff.source"
AG2_HANDOFF_TARGET = "ag2.handoff.target"
AG2_HANDOFF_REASON = "ag2.handoff.reason"
AG2_TERMINATION_REASON = "ag2.conversation.termination_reason"
AG2_GROUP_MAX_ROUND = "ag2.group_chat.max_round"
AG2_GROUP_AGENTS = "ag2.group_chat.agents"
SPAN_TYPE_SPEAKER_SELECTION = "speaker_selection"
OPERATION_SPEAKER_SELECTION = "speaker_selection"
SPEAKER_SELECTION_SPAN = "speaker_selection"
GEN_AI_TOKEN_TYPE = "gen_ai.token.type"

# Content events (EVENT_ONLY / SPAN_AND_EVENT)
EVENT_INFERENCE_DETAILS = "gen_ai.client.inference.operation.details"
EVENT_AGENT_DETAILS = "ag2.invoke_agent.details"
EVENT_TOOL_DETAILS = "ag2.execute_tool.details"
EVENT_CONVERSATION_DETAILS = "ag2.conversation.details"
EVENT_HUMAN_INPUT_DETAILS = "ag2.human_input.details"
EVENT_CODE_DETAILS = "ag2.code_execution.details"
