"""AG2 1.x over A2A when things go wrong: failures the app sees unchanged, hostile headers, 50 conversations at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from ag2 import Agent
from ag2.a2a import A2AConfig
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import SpanKind, StatusCode

from tests.support.asgi_servers import free_socket, url_of
from tests.support.fixtures import Traced
from tests.v1.a2a_support import EchoConfig, children, only, parent_of, serve_agent, serve_agent_grpc
from tests.v1.helpers import FailingConfig, by_name

pytestmark = pytest.mark.timeout(90)


def remote_calls(spans: tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    return [s for s in spans if s.name == "invoke_agent tech_agent" and s.kind is SpanKind.CLIENT]


async def raised_by(ask: Callable[[], Any]) -> BaseException:
    """What ``ask()`` raises."""
    with pytest.raises(BaseException) as raised:
        await ask()
    return raised.value


def assert_failed_like(call: ReadableSpan, uninstrumented: BaseException, instrumented: BaseException) -> None:
    """The app saw the same exception as without us, and the remote call's span says it failed."""
    assert type(instrumented) is type(uninstrumented)
    assert call.status.status_code is StatusCode.ERROR
    kind = type(instrumented)
    assert call.attributes["error.type"] == f"{kind.__module__}.{kind.__qualname__}"


@pytest.mark.parametrize("transport", ["jsonrpc", "rest", "grpc"])
async def test_a_served_agent_failure_is_an_error_on_both_sides_and_the_server_keeps_serving(
    traced: Traced, transport: str
) -> None:
    failing = Agent("tech_agent", config=FailingConfig(RuntimeError("model down")))
    serve = serve_agent_grpc(failing) if transport == "grpc" else serve_agent(failing, transport)
    with serve as url:
        remote = Agent("tech_agent", config=A2AConfig(card_url=url))
        uninstrumented = await raised_by(lambda: remote.ask("hi"))
        traced()
        instrumented = await raised_by(lambda: remote.ask("hi"))
        spans = traced.spans()
        assert_failed_like(only(remote_calls(spans)), uninstrumented, instrumented)
        served = only([s for s in spans if s.name == "invoke_agent tech_agent" and s.kind is SpanKind.INTERNAL])
        assert served.attributes["error.type"] == "RuntimeError"
        execution = parent_of(served, spans)
        assert execution.name == "a2a-execution"
        assert (execution.status.status_code, execution.attributes["error.type"]) == (StatusCode.ERROR, "RuntimeError")

        failing.config = EchoConfig()
        assert (await remote.ask("again")).body == "answer to again"


async def test_an_unreachable_server(traced: Traced) -> None:
    sock = free_socket()  # bound, never listening: connection refused
    try:
        remote = Agent("tech_agent", config=A2AConfig(card_url=url_of(sock)))
        uninstrumented = await raised_by(lambda: remote.ask("hi"))
        traced()
        instrumented = await raised_by(lambda: remote.ask("hi"))
    finally:
        sock.close()
    call = only(remote_calls(traced.spans()))
    assert_failed_like(call, uninstrumented, instrumented)
    assert [event.name for event in call.events] == ["exception"]


def answer_posts_with(status: int) -> Callable[[Any], Any]:
    def wrap(app: Any) -> Any:
        async def asgi(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["method"] == "POST":
                await send({"type": "http.response.start", "status": status, "headers": []})
                await send({"type": "http.response.body", "body": b"overloaded"})
                return
            await app(scope, receive, send)

        return asgi

    return wrap


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_answering_5xx(traced: Traced, status: int) -> None:
    with serve_agent(Agent("tech_agent", config=EchoConfig()), wrap=answer_posts_with(status)) as url:
        remote = Agent("tech_agent", config=A2AConfig(card_url=url))
        uninstrumented = await raised_by(lambda: remote.ask("hi"))
        traced()
        instrumented = await raised_by(lambda: remote.ask("hi"))
        spans = traced.spans()
    call = only(remote_calls(spans))
    assert_failed_like(call, uninstrumented, instrumented)
    assert [s.attributes["http.route"] for s in children(call, spans)] == ["/.well-known/agent-card.json"]


async def test_a_timeout(traced: Traced) -> None:
    with serve_agent(Agent("tech_agent", config=EchoConfig(delay=1.5))) as url:
        remote = Agent("tech_agent", config=A2AConfig(card_url=url, timeout=0.3))
        uninstrumented = await raised_by(lambda: remote.ask("hi"))
        traced()
        instrumented = await raised_by(lambda: remote.ask("hi"))
        spans = traced.spans()  # the server's end once its agent is done
    assert_failed_like(only(remote_calls(spans)), uninstrumented, instrumented)
    assert len(by_name(spans, "chat gpt-echo")) == 1


async def test_cancelling_a_remote_call(traced: Traced) -> None:
    with serve_agent(Agent("tech_agent", config=EchoConfig(delay=1.0))) as url:
        traced()
        asking = asyncio.create_task(Agent("tech_agent", config=A2AConfig(card_url=url)).ask("hi"))
        await asyncio.sleep(0.5)
        asking.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asking
        spans = traced.spans()
    call = only(remote_calls(spans))
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes["error.type"] == "asyncio.exceptions.CancelledError"
    assert all(parent_of(s, spans) is call for s in by_name(spans, "a2a-execution"))


TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
GET_TASK = {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "no-such-task"}}


@pytest.mark.parametrize(
    "headers",
    [
        [("traceparent", "garbage")],
        [("traceparent", "00-00000000000000000000000000000000-0000000000000000-01")],
        [("traceparent", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra")],
        [("traceparent", "00-" + "a" * 5000)],
        [("tracestate", "x" * 20000), ("traceparent", "nope")],
        [("baggage", "ü=ü;;;===,,,".encode() * 500), ("traceparent", "00-ü-ü-01".encode())],
        [("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-zz")],
        [("tracestate", ",".join(f"k{i}=v" for i in range(200))), ("baggage", "k=" + "v" * 9000)],
    ],
    ids=[
        "garbage",
        "all-zero",
        "bad-version",
        "huge",
        "huge-tracestate",
        "hostile-baggage",
        "bad-flags",
        "over-limits",
    ],
)
async def test_bad_trace_headers_start_a_fresh_trace(traced: Traced, headers: list[tuple[str, Any]]) -> None:
    with serve_agent(Agent("tech_agent", config=EchoConfig())) as url:
        traced()
        async with httpx.AsyncClient(timeout=10) as client:
            card = await client.get(url + ".well-known/agent-card.json", headers=headers)
            rpc = await client.post(url, content=json.dumps(GET_TASK), headers=headers)
        spans = traced.spans()
    assert card.status_code == rpc.status_code == 200
    executions = by_name(spans, "a2a-execution")
    assert len(executions) == 2 and all(s.parent is None for s in executions)
    assert len({s.context.trace_id for s in executions}) == 2
    (get_task,) = [s for s in executions if s.attributes.get("rpc.method") == "GetTask"]
    assert get_task.attributes["a2a.task.id"] == "no-such-task"


async def test_a_valid_traceparent_is_continued_and_a_repeated_one_never_breaks_a_request(traced: Traced) -> None:
    other = "00-11111111111111111111111111111111-2222222222222222-01"
    with serve_agent(Agent("tech_agent", config=EchoConfig())) as url:
        traced()
        async with httpx.AsyncClient(timeout=10) as client:
            single = await client.get(url + ".well-known/agent-card.json", headers={"traceparent": TRACEPARENT})
            repeated = await client.get(
                url + ".well-known/agent-card.json", headers=[("traceparent", TRACEPARENT), ("traceparent", other)]
            )
        spans = traced.spans()
    assert single.status_code == repeated.status_code == 200
    continued, after_repeat = by_name(spans, "a2a-execution")
    assert continued.context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert continued.parent.span_id == 0xB7AD6B7169203331 and continued.parent.is_remote
    assert after_repeat.parent is None or after_repeat.parent.span_id in (0xB7AD6B7169203331, 0x2222222222222222)


async def test_fifty_concurrent_conversations_against_one_server_stay_in_their_own_traces(
    traced: Traced, tracer_provider: TracerProvider
) -> None:
    tracer = tracer_provider.get_tracer("test")
    with serve_agent(Agent("tech_agent", config=EchoConfig(delay=0.05))) as url:
        traced()

        async def conversation(index: int) -> str:
            with tracer.start_as_current_span(f"conversation {index}"):
                return (await Agent("tech_agent", config=A2AConfig(card_url=url)).ask(f"q{index}")).body

        answers = await asyncio.gather(*(conversation(index) for index in range(50)))
        spans = traced.spans()

    assert answers == [f"answer to q{index}" for index in range(50)]
    traces: dict[int, list[ReadableSpan]] = {}
    for span in spans:
        traces.setdefault(span.context.trace_id, []).append(span)
    assert len(traces) == 50
    served_names = ["a2a-execution", "a2a-execution", "chat gpt-echo", "invoke_agent tech_agent"]
    for members in traces.values():
        (root,) = [s for s in members if s.parent is None]
        assert sorted(s.name for s in members) == sorted([root.name, "invoke_agent tech_agent", *served_names])
        (call,) = remote_calls(tuple(members))
        assert parent_of(call, members) is root
        served = only([s for s in members if s.name == "invoke_agent tech_agent" and s.kind is SpanKind.INTERNAL])
        assert parent_of(served, members).attributes["a2a.task.id"] == call.attributes["a2a.task.id"]
