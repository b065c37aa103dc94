"""The per-turn middleware that makes our ``chat``, ``execute_tool`` and ``await_human_input`` spans.

:mod:`.turns` appends :class:`TracingFactory` last to every turn's middleware, so ours is innermost: its
``on_llm_call`` wraps the provider's client call itself, its ``on_tool_execution`` every tool, and any
``TelemetryMiddleware`` the user added runs outside it, its spans adopted by ours (see :mod:`.own_tracing`); on
such a turn ours makes the turn's span at ``on_turn``, inside AG2's. A turn asking a human with
no ``hitl_hook`` is answered by AG2's default, which bypasses middleware: :func:`trace_default_human_input`
puts ours in front of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ag2.annotations import Context
from ag2.events import HumanInputRequest
from ag2.middleware import BaseMiddleware

from opentelemetry_instrumentation_ag2.spans import TracingSession
from opentelemetry_instrumentation_ag2.v1.agents import AgentSpans
from opentelemetry_instrumentation_ag2.v1.llm import LLMSpans
from opentelemetry_instrumentation_ag2.v1.model_config import request_attributes
from opentelemetry_instrumentation_ag2.v1.tool_schemas import tool_descriptions
from opentelemetry_instrumentation_ag2.v1.turn_state import Turn


class TurnHooks:
    """The traced wrappers of one ``instrument()`` call, shared by every turn's middleware."""

    def __init__(self, telemetry: TracingSession) -> None:
        self.telemetry = telemetry
        agents, llm = AgentSpans(telemetry), LLMSpans(telemetry)
        traced = telemetry.traced
        content = telemetry.capture_content  # these finishes only read content
        self.turn = traced(agents.turn, agents.turn_result, is_async=True)
        self.chat = traced(llm.chat, llm.response, is_async=True)
        self.tool = traced(agents.tool, agents.tool_result, is_async=True)
        self.human_input = traced(agents.human_input, agents.human_reply if content else None, is_async=True)


class TracingMiddleware(BaseMiddleware):
    """One turn's tracing: each hook runs the next one inside its span."""

    def __init__(self, event: Any, context: Any, hooks: TurnHooks, turn: Turn) -> None:
        super().__init__(event, context)
        self.turn = turn
        self.tool_schemas: Iterable[Any] = ()
        """The tool schemas handed to the turn's latest model call (every tool the model may name)."""
        self._hooks = hooks
        self._descriptions: dict[str, str] | None = None
        self._llm: dict[str, Any] | None = None

    def tool_description(self, name: str) -> str | None:
        """The description of one of the turn's tools, as the model was told it (read once per turn)."""
        if self._descriptions is None:
            self._descriptions = tool_descriptions(self.tool_schemas)
        return self._descriptions.get(name)

    def llm_attributes(self) -> dict[str, Any]:
        """Provider, model, endpoint and request parameters of the turn's config (read once per turn)."""
        if self._llm is None:
            self._llm = {**self.turn.model_attributes, **request_attributes(self.turn.config)}
        return self._llm

    # The hooks are plain functions handing AG2 the awaitable to run: no frame of ours stays in the chain, which
    # every suspension of the turn passes through.
    def on_turn(self, call_next: Callable, event: Any, context: Any) -> Awaitable[Any]:
        if not self.turn.ag2_traced:  # else the turn's span is made around the whole chain (:mod:`.turns`)
            return call_next(event, context)
        return self._hooks.turn(call_next, self.turn, (event, context), {})

    def on_llm_call(self, call_next: Callable, events: Any, context: Any) -> Awaitable[Any]:
        # innermost, so ``call_next`` is AG2's ``partial(client, tools=..., ...)``: the schemas the model gets
        keywords = getattr(call_next, "keywords", None)
        schemas = (keywords.get("tools") if keywords else None) or ()
        if schemas is not self.tool_schemas:
            self.tool_schemas, self._descriptions = schemas, None
        return self._hooks.chat(call_next, self, (events, context), {})

    def on_tool_execution(self, call_next: Callable, event: Any, context: Any) -> Awaitable[Any]:
        return self._hooks.tool(call_next, self, (event, context), {})

    def on_human_input(self, call_next: Callable, event: Any, context: Any) -> Awaitable[Any]:
        return self._hooks.human_input(call_next, self, (event, context), {})


class TracingFactory:
    """The ``MiddlewareFactory`` AG2 calls once per turn."""

    __slots__ = ("hooks", "turn")

    def __init__(self, hooks: TurnHooks, turn: Turn) -> None:
        self.hooks = hooks
        self.turn = turn

    def __call__(self, event: Any, context: Any) -> TracingMiddleware:
        return TracingMiddleware(event, context, self.hooks, self.turn)


def trace_default_human_input(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
    """Wrapper of AG2's ``default_hitl_hook(middlewares)``, the answer of a turn without a ``hitl_hook``.

    AG2's default raises ``HumanInputNotProvidedError`` without passing through any middleware; ours goes
    in front of it (and only ours: the user's middleware sees what AG2 shows it), so the question and its
    failure are an ``await_human_input`` span as with a hook.
    """
    answer = wrapped(*args, **kwargs)
    middlewares = args[0] if args else kwargs.get("middlewares", ())
    ours = next((m for m in middlewares if isinstance(m, TracingMiddleware)), None)
    if ours is None:
        return answer

    async def traced_answer(event: HumanInputRequest, context: Context) -> Any:
        return await ours.on_human_input(answer, event, context)

    traced_answer.__annotations__ = _ANSWER_ANNOTATIONS
    return traced_answer


_ANSWER_ANNOTATIONS = {"event": HumanInputRequest, "context": Context, "return": None}
"""The traced answer's annotations as types: AG2 resolves a hook's annotations every turn, strings at a cost."""
