"""Never change the app, never split a trace: what hostile and realistic use found, kept fixed.

A span processor that raises, copying and pickling agents, content that cannot be serialised, A2A apps
built before ``instrument()``, and a failing tool's own exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import pickle
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from autogen import ConversableAgent, register_function
from autogen.a2a import A2aAgentServer, A2aRemoteAgent
from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags

from opentelemetry_instrumentation_ag2 import AG2Instrumentor, spans
from opentelemetry_instrumentation_ag2.patching import BoundPatchedFunction, PatchedFunction
from tests.support.asgi_servers import free_socket, serve_app

from .agents_app import build_agents, llm_config
from .conftest import by_name, parent_of

pytestmark = pytest.mark.timeout(90)


@contextlib.contextmanager
def instrumented(provider: TracerProvider, **options: Any) -> Iterator[AG2Instrumentor]:
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=provider, **options)
    try:
        yield instrumentor
    finally:
        instrumentor.uninstrument()


def outcome(run: Callable[[], Any]) -> tuple[Any, Any]:
    """What a call returned, or the type and text of what it raised."""
    try:
        return "returned", run()
    except Exception as exc:
        return type(exc), str(exc)


# 1. A span processor that raises


class Broken(SpanProcessor):
    """A user's span processor with a bug in ``on_start`` or ``on_end``."""

    def __init__(self, hook: str) -> None:
        self.hook = hook

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        if self.hook == "on_start":
            raise RuntimeError("exporter bug")

    def on_end(self, span: Any) -> None:
        if self.hook == "on_end":
            raise RuntimeError("exporter bug")


class AppError(Exception):
    """The application's own exception."""


def two_agents(reply: Callable[..., Any]) -> tuple[ConversableAgent, ConversableAgent]:
    a = ConversableAgent("a", default_auto_reply="ok a", llm_config=False, human_input_mode="NEVER")
    b = ConversableAgent("b", llm_config=False, human_input_mode="NEVER")
    b.register_reply([ConversableAgent, None], reply)
    return a, b


def answer(recipient: Any, messages: Any, sender: Any, config: Any) -> tuple[bool, str]:
    return True, f"answer to {messages[-1]['content']}"


def fail(recipient: Any, messages: Any, sender: Any, config: Any) -> tuple[bool, str]:
    raise AppError("the app's own failure")


async def a_fail(recipient: Any, messages: Any, sender: Any, config: Any) -> tuple[bool, str]:
    raise AppError("the app's own failure")


def local_chat(reply: Callable[..., Any], is_async: bool) -> Callable[[], Any]:
    def run() -> Any:
        a, b = two_agents(reply)
        if is_async:
            result = asyncio.run(a.a_initiate_chat(b, message="hi", max_turns=2, silent=True))
        else:
            result = a.initiate_chat(b, message="hi", max_turns=2, silent=True)
        return [(m["name"], m["content"]) for m in result.chat_history]

    return run


@pytest.fixture
def fresh_failure_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spans, "_reported_failures", set())


@pytest.mark.parametrize("hook", ["on_start", "on_end"])
@pytest.mark.parametrize(
    ("reply", "is_async"),
    [(answer, False), (answer, True), (fail, False), (fail, True), (a_fail, True)],
    ids=["sync", "async", "sync-app-raises", "async-app-raises", "async-app-raises-in-async-reply"],
)
def test_a_span_processor_that_raises_never_reaches_the_app(hook, reply, is_async, fresh_failure_log, caplog):
    run = local_chat(reply, is_async)
    expected = outcome(run)
    provider = TracerProvider()
    provider.add_span_processor(Broken(hook))
    with caplog.at_level(logging.WARNING, "opentelemetry_instrumentation_ag2"), instrumented(provider):
        assert outcome(run) == expected
        assert outcome(run) == expected
    reports = [r for r in caplog.records if r.name.startswith("opentelemetry_instrumentation_ag2")]
    assert len(reports) == 1, [r.getMessage() for r in reports]  # once, not per span


def test_a_span_processor_that_raises_never_fails_a_served_a2a_call(llm, fresh_failure_log):
    provider = TracerProvider()
    provider.add_span_processor(Broken("on_end"))
    llm.push("Served despite the exporter.")
    with instrumented(provider), served_app_of(build_served_agent(llm)) as url:
        result = remote_chat(url)
    assert result.chat_history[-1]["content"] == "Served despite the exporter."


# 2. Copying and pickling agents


def pickled(function: Any) -> Any:
    """What pickling one reply function gives: the function it loads as, or the type of its failure."""
    try:
        return pickle.loads(pickle.dumps(function))
    except Exception as exc:
        return type(exc)


def make_agent(name: str = "a") -> ConversableAgent:
    return ConversableAgent(name, default_auto_reply=f"ok {name}", llm_config=False, human_input_mode="NEVER")


def copies_and_pickles_as_uninstrumented(agent: ConversableAgent, expected: list[Any], *, wrappers_only: bool) -> None:
    """``copy``/``deepcopy`` work, and each reply function pickles as an uninstrumented agent's does.

    While instrumented, pickle itself refuses a plain function whose class attribute is patched (its lookup
    by name finds the wrapper): there only the instrumentor's wrappers are compared.
    """
    for make_copy in (copy.copy, copy.deepcopy):
        copied = make_copy(agent)
        assert copied.name == agent.name
        assert len(copied._reply_func_list) == len(agent._reply_func_list)
    for entry, want in zip(agent._reply_func_list, expected, strict=True):
        function = entry["reply_func"]
        if wrappers_only and not isinstance(function, (PatchedFunction, BoundPatchedFunction)):
            continue
        assert pickled(function) == want


def test_agents_copy_and_pickle_as_uninstrumented_in_every_state(tracer_provider, span_exporter):
    expected = [pickled(entry["reply_func"]) for entry in make_agent()._reply_func_list]
    before = make_agent()
    with instrumented(tracer_provider):
        asyncio.run(make_agent("b").a_initiate_chat(before, message="hi", max_turns=1, silent=True))  # a traced turn
        during, during_no_turn = make_agent(), make_agent()
        asyncio.run(make_agent("b").a_initiate_chat(during, message="hi", max_turns=1, silent=True))
        assert any(isinstance(e["reply_func"], PatchedFunction) for e in before._reply_func_list)
        assert any(isinstance(e["reply_func"], BoundPatchedFunction) for e in during_no_turn._reply_func_list)
        for agent in (before, during, during_no_turn):
            copies_and_pickles_as_uninstrumented(agent, expected, wrappers_only=True)
    for agent in (before, during, during_no_turn, make_agent()):
        copies_and_pickles_as_uninstrumented(agent, expected, wrappers_only=False)


@pytest.mark.parametrize("make_copy", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_a_copied_agent_is_traced_like_the_original(tracer_provider, span_exporter, make_copy):
    with instrumented(tracer_provider):
        twin = make_copy(make_agent("original"))
        asyncio.run(make_agent("b").a_initiate_chat(twin, message="hi", max_turns=2, silent=True))
        twin.initiate_chat(make_agent("c"), message="hi", max_turns=2, silent=True)
    names = [s.name for s in span_exporter.get_finished_spans()]
    assert names.count("conversation original") == 1
    assert names.count("invoke_agent original") == 3  # twice answering b (async), once answering c


# 3. Content that cannot be serialised


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text for you")

    __repr__ = __str__


def odd_reply(recipient: Any, messages: Any, sender: Any, config: Any) -> tuple[bool, dict]:
    url = {"url": Unprintable()}
    return True, {
        "role": "assistant",
        "content": [{"type": "text", "text": "see"}, {"type": "image_url", "image_url": url}],
    }


def test_content_that_cannot_be_serialised_drops_only_that_attribute(tracer_provider, span_exporter):
    with instrumented(tracer_provider, capture_message_content="SPAN_AND_EVENT"):
        a, b = two_agents(odd_reply)
        a.initiate_chat(b, message="show me", max_turns=2, silent=True)
    found = span_exporter.get_finished_spans()
    (conversation,) = by_name(found, "conversation a")
    turns_of_b, turns_of_a = by_name(found, "invoke_agent b"), by_name(found, "invoke_agent a")
    assert len(turns_of_b) == 2 and len(turns_of_a) == 1
    assert all(parent_of(turn, found) is conversation for turn in turns_of_b + turns_of_a)
    assert "gen_ai.input.messages" in conversation.attributes  # "show me" serialises
    assert "gen_ai.input.messages" in turns_of_b[0].attributes
    assert "gen_ai.output.messages" not in turns_of_b[0].attributes  # the reply with the odd part
    assert "gen_ai.input.messages" not in turns_of_a[0].attributes  # the same message, answered by a
    assert "gen_ai.output.messages" in turns_of_a[0].attributes  # "ok a"


# 4. A2A apps built before instrument()


def build_served_agent(llm: Any) -> ConversableAgent:
    return ConversableAgent("tech_agent", llm_config=llm_config(llm.base_url), human_input_mode="NEVER")


@contextlib.contextmanager
def served_app_of(agent: ConversableAgent, app_of: Callable[[A2aAgentServer], Any] | None = None) -> Iterator[str]:
    """Serve the agent; ``app_of`` builds the app from the server (by default, at once)."""
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    server = A2aAgentServer(agent, url=url)
    with serve_app((app_of or A2aAgentServer.build)(server), sock):
        yield url


def remote_chat(url: str) -> Any:
    user = ConversableAgent("user_proxy", human_input_mode="NEVER", llm_config=False)
    return asyncio.run(user.a_initiate_chat(A2aRemoteAgent(url=url, name="tech_agent"), message="hi", max_turns=1))


def all_ended(spans_found: Any) -> bool:
    """Both sides done: the client's conversation and the request span around the served conversation."""
    served = by_name(spans_found, "conversation tech_agent")
    return bool(by_name(spans_found, "conversation user_proxy") and served and parent_of(served[0], spans_found))


def served_tree(spans_found: Any) -> tuple[Any, Any, Any]:
    """The remote call, the request that ran the served agent, and the served conversation."""
    (client,) = [s for s in by_name(spans_found, "invoke_agent tech_agent") if s.kind is SpanKind.CLIENT]
    (served_conversation,) = by_name(spans_found, "conversation tech_agent")
    return client, parent_of(served_conversation, spans_found), served_conversation


def build_before_instrument(provider: TracerProvider) -> Any:
    return A2aAgentServer.build


def build_in_an_earlier_session(provider: TracerProvider) -> Any:
    def app_of(server: A2aAgentServer) -> Any:
        with instrumented(provider):
            return server.build()

    return app_of


@pytest.mark.parametrize("built", [build_before_instrument, build_in_an_earlier_session], ids=lambda f: f.__name__)
def test_an_a2a_app_built_before_instrument_continues_the_callers_trace(tracer_provider, span_exporter, llm, built):
    llm.push("Served.")
    with served_app_of(build_served_agent(llm), built(tracer_provider)) as url, instrumented(tracer_provider):
        result = remote_chat(url)
        found = span_exporter.wait_for(all_ended)
    assert result.chat_history[-1]["content"] == "Served."
    client, execution, served_conversation = served_tree(found)
    assert execution.name == "a2a-execution"
    assert execution.kind is SpanKind.SERVER
    assert execution.parent.span_id == client.context.span_id
    assert execution.attributes["a2a.task.id"] and execution.attributes["a2a.context.id"]
    (served_turn,) = [s for s in by_name(found, "invoke_agent tech_agent") if s.kind is SpanKind.INTERNAL]
    assert parent_of(served_turn, found) is served_conversation
    assert len({s.context.trace_id for s in found}) == 1


@pytest.mark.parametrize("built", [build_before_instrument, build_in_an_earlier_session], ids=lambda f: f.__name__)
def test_an_a2a_app_built_before_instrument_honours_the_callers_sampled_flag(
    tracer_provider, span_exporter, llm, built
):
    llm.push("Not sampled.", "Sampled.")
    not_sampled = SpanContext(0xABC, 0xDEF, is_remote=False, trace_flags=TraceFlags(TraceFlags.DEFAULT))
    with served_app_of(build_served_agent(llm), built(tracer_provider)) as url, instrumented(tracer_provider):
        with trace.use_span(NonRecordingSpan(not_sampled)):
            assert remote_chat(url).chat_history[-1]["content"] == "Not sampled."
        remote_chat(url)  # then a sampled one: its spans are all that may arrive
        found = span_exporter.wait_for(all_ended)
    assert len({s.context.trace_id for s in found}) == 1
    assert 0xABC not in {s.context.trace_id for s in found}
    assert len(by_name(found, "conversation tech_agent")) == 1


def test_an_a2a_app_makes_no_spans_after_uninstrument(tracer_provider, span_exporter, llm):
    llm.push("Untraced.")
    with instrumented(tracer_provider):
        pass
    with served_app_of(build_served_agent(llm), build_in_an_earlier_session(tracer_provider)) as url:
        assert remote_chat(url).chat_history[-1]["content"] == "Untraced."
    assert span_exporter.get_finished_spans() == ()


# 6. A failing tool's own exception


class DiskOnFire(Exception):
    """What the tool raises."""


def broken_tool() -> str:
    raise DiskOnFire("disk on fire")


async def a_broken_tool() -> str:
    raise DiskOnFire("disk on fire")


@pytest.mark.parametrize("tool", [broken_tool, a_broken_tool], ids=["sync-tool", "async-tool"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync-chat", "async-chat"])
def test_a_failing_tool_records_its_own_exception(instrument, span_exporter, llm, tool, is_async):
    llm.push({"tool_calls": [{"name": "broken", "arguments": {}, "id": "call_bad"}]}, "Sorry.")
    user_proxy, tech_agent = build_agents(llm.base_url)
    register_function(tool, name="broken", caller=tech_agent, executor=user_proxy, description="Always fails")
    if is_async:
        result = asyncio.run(user_proxy.a_initiate_chat(tech_agent, message="Go", max_turns=2))
    else:
        result = user_proxy.initiate_chat(tech_agent, message="Go", max_turns=2)
    assert "Error: disk on fire" in str(result.chat_history)  # AG2 still handles it as before
    (failed,) = by_name(span_exporter.get_finished_spans(), "execute_tool broken")
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes["error.type"] == f"{__name__}.DiskOnFire"
    (raised,) = [event for event in failed.events if event.name == "exception"]
    assert raised.attributes["exception.type"] == f"{__name__}.DiskOnFire"
    assert raised.attributes["exception.message"] == "disk on fire"
    assert f"in {tool.__name__}" in raised.attributes["exception.stacktrace"]


def test_tool_functions_are_unwrapped_by_uninstrument(tracer_provider, llm):
    llm.push({"tool_calls": [{"name": "broken", "arguments": {}, "id": "c"}]}, "Sorry.")
    user_proxy, tech_agent = build_agents(llm.base_url)
    register_function(broken_tool, name="broken", caller=tech_agent, executor=user_proxy, description="Fails")
    plain = user_proxy.function_map["broken"]
    with instrumented(tracer_provider):
        user_proxy.initiate_chat(tech_agent, message="Go", max_turns=2)
        assert user_proxy.function_map["broken"] is not plain
    assert user_proxy.function_map["broken"] is plain
