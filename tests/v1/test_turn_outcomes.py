"""A turn's ``invoke_agent`` span records the turn as its caller sees it, the user's middleware included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ag2 import Agent
from ag2.events import ModelMessage, ModelResponse
from ag2.middleware import BaseMiddleware, Middleware
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_ag2.spans import fq_exception_type
from tests.support.fixtures import Traced
from tests.v1.helpers import by_name, is_child, one, scripted

pytestmark = pytest.mark.timeout(30)


class PolicyViolation(Exception):
    """What a user's guardrail raises."""


def guarded(on_turn: Callable[..., Any]) -> Agent:
    guard = type("Guard", (BaseMiddleware,), {"on_turn": on_turn})
    return Agent("guarded", config=scripted("an answer"), middleware=[Middleware(guard)])


def assert_failed_with(span: Any, error: BaseException) -> None:
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == fq_exception_type(error)
    (recorded,) = span.events
    assert recorded.name == "exception"
    assert recorded.attributes["exception.message"] == str(error)


async def test_a_turn_the_users_middleware_refuses_is_an_error_span(
    instrumented: Traced, span_exporter: InMemorySpanExporter
) -> None:
    error = PolicyViolation("blocked by policy")

    async def refuse(self: Any, call_next: Any, event: Any, context: Any) -> Any:
        raise error

    with pytest.raises(PolicyViolation) as raised:
        await guarded(refuse).ask("something forbidden")

    assert raised.value is error
    spans = span_exporter.get_finished_spans()
    assert [span.name for span in spans] == ["invoke_agent guarded"]
    assert_failed_with(spans[0], error)


async def test_a_turn_the_users_middleware_fails_after_the_model_answered(
    instrumented: Traced, span_exporter: InMemorySpanExporter
) -> None:
    error = PolicyViolation("the answer leaks a secret")

    async def check_answer(self: Any, call_next: Any, event: Any, context: Any) -> Any:
        await call_next(event, context)
        raise error

    with pytest.raises(PolicyViolation):
        await guarded(check_answer).ask("tell me")

    spans = span_exporter.get_finished_spans()
    turn, chat = one(spans, "invoke_agent guarded"), one(spans, "chat gpt-test")
    assert_failed_with(turn, error)
    assert is_child(chat, turn) and chat.status.status_code is StatusCode.UNSET  # the model call itself was fine
    assert chat.start_time >= turn.start_time and chat.end_time <= turn.end_time


async def test_a_turn_the_users_middleware_short_circuits_is_a_span_without_a_model_call(
    instrumented: Traced, span_exporter: InMemorySpanExporter
) -> None:
    async def answer_from_cache(self: Any, call_next: Any, event: Any, context: Any) -> Any:
        return ModelResponse(ModelMessage("cached answer"))

    reply = await guarded(answer_from_cache).ask("again")

    assert reply.body == "cached answer"
    spans = span_exporter.get_finished_spans()
    assert [span.name for span in spans] == ["invoke_agent guarded"]
    assert spans[0].status.status_code is StatusCode.UNSET  # the caller got an answer
    assert spans[0].attributes["gen_ai.conversation.id"] == str(reply.context.stream.id)
    assert by_name(spans, "chat gpt-test") == []
