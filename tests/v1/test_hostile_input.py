"""Hostile input on AG2 1.x: requests, exceptions and names that must not change the app or lose telemetry."""

from __future__ import annotations

import pytest
from ag2 import Agent, Context, tool
from ag2.a2a import A2AConfig
from ag2.events import ToolCallEvent
from opentelemetry.trace import SpanKind, StatusCode

from tests.support.fixtures import Traced
from tests.support.hostile import DEEPLY_NESTED_BODY, UNENCODABLE_NAME, UnprintableError, answer, otlp_payload
from tests.v1.a2a_support import EchoConfig, serve_agent
from tests.v1.helpers import FailingConfig, by_name, one, scripted

pytestmark = pytest.mark.timeout(60)

UNPRINTABLE_TYPE = f"{UnprintableError.__module__}.UnprintableError"


@pytest.mark.parametrize(("transport", "path"), [("rest", "message:send"), ("jsonrpc", "")])
def test_a_deeply_nested_body_gets_the_same_answer_as_uninstrumented(traced: Traced, transport: str, path: str) -> None:
    with serve_agent(Agent("tech_agent", config=EchoConfig()), transport) as url:
        uninstrumented = answer(url, DEEPLY_NESTED_BODY, path)
        traced()
        try:
            instrumented = answer(url, DEEPLY_NESTED_BODY, path)
        finally:
            traced.uninstrument()
    assert instrumented == uninstrumented
    assert uninstrumented[0] < 500
    execution = one(traced.spans(), "a2a-execution")
    assert execution.attributes["http.response.status_code"] == uninstrumented[0]


async def test_an_llm_error_whose_message_cannot_be_read_is_recorded(instrumented: Traced) -> None:
    error = UnprintableError()
    with pytest.raises(UnprintableError) as raised:
        await Agent("fragile", config=FailingConfig(error)).ask("hello")
    assert raised.value is error
    spans = instrumented.spans()
    for span in (one(spans, "invoke_agent fragile"), one(spans, "chat gpt-broken")):
        assert span.status.status_code is StatusCode.ERROR, span.name
        assert span.attributes["error.type"] == UNPRINTABLE_TYPE, span.name
        assert span.events[0].attributes["exception.message"] == "<unprintable UnprintableError object>"


@tool
async def unprintable() -> str:
    """A tool failing with an exception whose message cannot be read."""
    raise UnprintableError()


async def test_a_tool_error_whose_message_cannot_be_read_is_recorded(instrumented: Traced) -> None:
    config = scripted(ToolCallEvent(name="unprintable", arguments="{}", id="c-1"), "Sorry.")
    await Agent("clerk", config=config, tools=[unprintable]).ask("go")
    failed = one(instrumented.spans(), "execute_tool unprintable")
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes["error.type"] == UNPRINTABLE_TYPE


async def test_a_served_agent_failing_with_an_unreadable_message_marks_its_request_failed(
    instrumented: Traced,
) -> None:
    served = Agent("tech_agent", config=FailingConfig(UnprintableError()))
    with serve_agent(served) as url, pytest.raises(Exception) as raised:
        await Agent("tech_agent", config=A2AConfig(card_url=url)).ask("hello")
    spans = instrumented.spans()
    call = one(
        [s for s in spans if s.kind is SpanKind.CLIENT and s.name.startswith("invoke_agent")], "invoke_agent tech_agent"
    )
    assert call.attributes["error.type"].endswith(type(raised.value).__name__)  # what the caller got
    (execution,) = [s for s in by_name(spans, "a2a-execution") if s.attributes.get("a2a.task.id")]
    assert execution.status.status_code is StatusCode.ERROR  # with what the executor raised in the error's place
    assert execution.attributes["error.type"]
    served_chat = one(spans, "chat gpt-broken")
    assert served_chat.status.status_code is StatusCode.ERROR
    assert served_chat.attributes["error.type"] == UNPRINTABLE_TYPE


async def test_an_unencodable_agent_name_loses_no_span_in_otlp(instrumented: Traced) -> None:
    await Agent(UNENCODABLE_NAME, config=scripted("Hi!")).ask("hello")
    await Agent("helper", config=scripted("Hi!")).ask("hello")
    spans = instrumented.spans()
    assert otlp_payload(spans)  # the OTLP encoder takes the whole batch
    assert {"invoke_agent agent_\ufffd", "invoke_agent helper"} <= {s.name for s in spans}


@tool
async def confirm(ctx: Context) -> str:
    """Ask the human to confirm."""
    return await ctx.input("Ship it?")


async def test_an_agent_without_a_name_gives_the_operation_alone_as_span_name(instrumented: Traced) -> None:
    config = scripted(ToolCallEvent(name="confirm", arguments="{}", id="c-1"), "Shipped.")
    await Agent("", config=config, tools=[confirm], hitl_hook=lambda request: "yes").ask("ship")
    names = {span.name for span in instrumented.spans()}
    assert {"invoke_agent", "await_human_input", "execute_tool confirm"} <= names
    assert not [name for name in names if name != name.strip()]
