"""The scripted model's policy for apps it was not scripted for: call the first tool offered, then answer."""

from __future__ import annotations

from typing import Any

from tests.support.scripted_model import Reply

_EXAMPLE_VALUES = {"string": "Paris", "integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}


def example_arguments(parameters: dict[str, Any]) -> dict[str, Any]:
    """Arguments for a tool's JSON schema: an example value for each required parameter."""
    properties = parameters.get("properties") or {}
    return {
        name: _EXAMPLE_VALUES.get(properties.get(name, {}).get("type"), "Paris")
        for name in parameters.get("required", [])
    }


def tool_then_answer(request: dict[str, Any]) -> Reply:
    """Call the first tool offered unless a tool has just answered; then say what it answered."""
    messages = request.get("messages") or [{}]
    tools = request.get("tools") or []
    if messages[-1].get("role") == "tool":
        return f"The tool answered: {messages[-1].get('content')}"
    if tools:
        function = tools[0]["function"]
        arguments = example_arguments(function.get("parameters") or {})
        return {"tool_calls": [{"name": function["name"], "arguments": arguments}], "content": None}
    return "Hello from the local model."
