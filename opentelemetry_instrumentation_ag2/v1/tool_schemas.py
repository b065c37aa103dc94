"""The tool schemas AG2 1.x hands a model call: each tool's description, and ``gen_ai.tool.definitions``.

Read from what the model is actually offered (``ToolSchema`` objects, after AG2 resolved the agent's tools,
toolkits, plugins, MCP servers and sub-task tools), not from the agent's own list.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from opentelemetry_instrumentation_ag2.content import as_text


def _function(schema: Any) -> Any:
    return getattr(schema, "function", None)


def tool_descriptions(schemas: Iterable[Any]) -> dict[str, str]:
    """Tool name to description, for the function tools among ``schemas``."""
    found: dict[str, str] = {}
    for schema in schemas:
        function = _function(schema)
        name, description = getattr(function, "name", None), getattr(function, "description", None)
        if isinstance(name, str) and isinstance(description, str) and description:
            found.setdefault(name, description)
    return found


def _definition(schema: Any) -> dict[str, Any]:
    function = _function(schema)
    if function is not None:
        definition = {"name": function.name, "description": function.description, "parameters": function.parameters}
        return {"type": getattr(schema, "type", "function"), "function": definition}
    if dataclasses.is_dataclass(schema) and not isinstance(schema, type):
        return dataclasses.asdict(schema)
    return {"type": str(getattr(schema, "type", type(schema).__name__))}


def tool_definitions(schemas: Iterable[Any]) -> str | None:
    """``gen_ai.tool.definitions``: the offered tools in the OpenAI shape the classic line records too."""
    definitions = [_definition(schema) for schema in schemas]
    return as_text(definitions) if definitions else None
