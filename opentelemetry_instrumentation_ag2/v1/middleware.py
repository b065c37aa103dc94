"""The per-turn middleware that makes our spans, injected innermost into every AG2 1.x turn.

Every way a 1.x turn starts (``Agent.ask``, ``Agent.run``, ``AgentReply.ask``/``run``, ``Agent.resume``,
the A2A executor, the network) opens ``Agent._turn_scope``, which builds the turn's middleware chain.
One class-level patch on it appends :class:`TracingFactory` to the turn's middleware, so agents built
before ``instrument()`` are traced too and the user adds nothing. Being last, ours is innermost: its
``on_llm_call`` wraps the provider's client call itself, its ``on_tool_execution`` every tool, and any
``TelemetryMiddleware`` the user added runs outside it (see :mod:`.own_tracing`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from ag2.middleware import BaseMiddleware
from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from opentelemetry_instrumentation_ag2.spans import Telemetry
from opentelemetry_instrumentation_ag2.v1.agents import AgentSpans
from opentelemetry_instrumentation_ag2.v1.llm import LLMSpans
from opentelemetry_instrumentation_ag2.v1.model_config import model_attributes, request_attributes, turn_config

logger = logging.getLogger(__name__)


class TurnHooks:
    """The traced wrappers of one ``instrument()`` call, shared by every turn's middleware."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry
        agents, llm = AgentSpans(telemetry), LLMSpans(telemetry)
        traced = telemetry.traced
        content = telemetry.capture_content  # these finishes only read content
        self.turn = traced(agents.turn, agents.turn_result if content else None, is_async=True)
        self.chat = traced(llm.chat, llm.response, is_async=True)
        self.tool = traced(agents.tool, agents.tool_result, is_async=True)
        self.human_input = traced(agents.human_input, agents.human_reply if content else None, is_async=True)


def tool_descriptions(tools: Iterable[Any]) -> dict[str, str]:
    """Tool name to description, for function tools and the members of toolkits."""
    found: dict[str, str] = {}
    pending = list(tools)
    while pending:
        tool = pending.pop()
        function = getattr(getattr(tool, "schema", None), "function", None)
        name, description = getattr(function, "name", None), getattr(function, "description", None)
        if isinstance(name, str) and isinstance(description, str) and description:
            found.setdefault(name, description)
        members = getattr(tool, "tools", None)
        if isinstance(members, (tuple, list)):
            pending.extend(members)
    return found


class TracingMiddleware(BaseMiddleware):
    """One turn's tracing: each hook runs the next one inside its span."""

    def __init__(self, event: Any, context: Any, hooks: TurnHooks, agent: Any, turn_tools: Iterable[Any]) -> None:
        super().__init__(event, context)
        self.agent = agent
        self._hooks = hooks
        self._turn_tools = turn_tools
        self._descriptions: dict[str, str] | None = None
        self._llm: dict[str, Any] | None = None

    def tool_description(self, name: str) -> str | None:
        """The description of one of the turn's tools (read once per turn, on its first tool call)."""
        if self._descriptions is None:
            agent = self.agent
            tools = (*(agent.tools or ()), *getattr(agent, "_additional_tools", ()), *self._turn_tools)
            self._descriptions = tool_descriptions(tools)
        return self._descriptions.get(name)

    def llm_attributes(self, context: Any) -> dict[str, Any]:
        """Provider, model, endpoint and request parameters of the turn's config (read once per turn)."""
        if self._llm is None:
            config = turn_config(self.agent, context)
            self._llm = {**model_attributes(config), **request_attributes(config)}
        return self._llm

    async def on_turn(self, call_next: Callable, event: Any, context: Any) -> Any:
        return await self._hooks.turn(call_next, self, (event, context), {})

    async def on_llm_call(self, call_next: Callable, events: Any, context: Any) -> Any:
        return await self._hooks.chat(call_next, self, (events, context), {})

    async def on_tool_execution(self, call_next: Callable, event: Any, context: Any) -> Any:
        return await self._hooks.tool(call_next, self, (event, context), {})

    async def on_human_input(self, call_next: Callable, event: Any, context: Any) -> Any:
        return await self._hooks.human_input(call_next, self, (event, context), {})


class TracingFactory:
    """The ``MiddlewareFactory`` AG2 calls once per turn."""

    __slots__ = ("agent", "hooks", "turn_tools")

    def __init__(self, hooks: TurnHooks, agent: Any, turn_tools: Iterable[Any]) -> None:
        self.hooks = hooks
        self.agent = agent
        self.turn_tools = turn_tools

    def __call__(self, event: Any, context: Any) -> TracingMiddleware:
        return TracingMiddleware(event, context, self.hooks, self.agent, self.turn_tools)


def inject_tracing(hooks: TurnHooks) -> Callable:
    """The wrapt wrapper of ``Agent._turn_scope``: appends our middleware to the turn's own."""

    def wrapper(wrapped: Callable, agent: Any, args: tuple, kwargs: dict) -> Any:
        if not hooks.telemetry.enabled or not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        try:
            factory = TracingFactory(hooks, agent, kwargs.get("additional_tools") or ())
            kwargs = {**kwargs, "additional_middleware": (*kwargs.get("additional_middleware", ()), factory)}
        except Exception:  # telemetry must never break the application
            logger.debug("ag2 instrumentation failed to trace a turn", exc_info=True)
        return wrapped(*args, **kwargs)

    return wrapper
