"""What both AG2 lines know of agents in other processes: trace context in and out (A2A requests and
metadata, the ``_meta`` of MCP and ACP messages), where a served request's span goes and what its HTTP
exchange says, and a2a-sdk's own tracing."""
