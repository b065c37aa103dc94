"""Where the classic line's patched code lives: every ``autogen`` module path, named once."""

CONVERSABLE_AGENT = "autogen.agentchat.conversable_agent"
GROUPCHAT = "autogen.agentchat.groupchat"
GROUP_UTILS = "autogen.agentchat.group.group_utils"
MULTI_AGENT_CHAT = "autogen.agentchat.group.multi_agent_chat"
AGENT_EVENTS = "autogen.events.agent_events"
LLM_CLIENT = "autogen.oai.client"
CODE_EXECUTORS = (
    ("autogen.coding.local_commandline_code_executor", "LocalCommandLineCodeExecutor"),
    ("autogen.coding.docker_commandline_code_executor", "DockerCommandLineCodeExecutor"),
)
A2A = "autogen.a2a"
"""Patched once the application imports it: an application without A2A never loads a2a-sdk, starlette, uvicorn."""
A2A_CLIENT = "autogen.a2a.client"
A2A_SERVER = "autogen.a2a.server"
A2A_EXECUTOR = "autogen.a2a.agent_executor"
