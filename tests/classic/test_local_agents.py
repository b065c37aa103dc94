"""Local agents traced with zero code changes: the seed's client-side tree, tools, human input, code, errors."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Sequence

import openai
import pytest
from autogen import ConversableAgent, register_function
from autogen.coding import LocalCommandLineCodeExecutor
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from tests.support.scripted_model import ScriptedLLM

from .agents_app import QUESTION, build_agents
from .conftest import by_name, parent_of

pytestmark = pytest.mark.timeout(60)


def one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = by_name(spans, name)
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


def assert_seed_tree(spans: Sequence[ReadableSpan], llm_turns: int) -> None:
    """conversation user_proxy -> invoke_agent tech_agent -> chat gpt-4o-mini, one trace, one conversation id."""
    conversation = one(spans, "conversation user_proxy")
    assert conversation.parent is None
    assert conversation.attributes["ag2.span.type"] == "conversation"
    assert conversation.attributes["gen_ai.operation.name"] == "conversation"
    assert conversation.attributes["gen_ai.agent.name"] == "user_proxy"
    conversation_id = conversation.attributes["gen_ai.conversation.id"]
    assert {span.context.trace_id for span in spans} == {conversation.context.trace_id}
    assert {span.attributes["gen_ai.conversation.id"] for span in spans} == {conversation_id}

    tech_turns = by_name(spans, "invoke_agent tech_agent")
    assert len(tech_turns) == llm_turns
    for turn in tech_turns + by_name(spans, "invoke_agent user_proxy"):
        assert parent_of(turn, spans) is conversation
        assert turn.kind is SpanKind.INTERNAL
        assert turn.attributes["gen_ai.operation.name"] == "invoke_agent"
        assert turn.attributes["ag2.span.type"] == "agent"
    assert tech_turns[0].attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert tech_turns[0].attributes["gen_ai.provider.name"] == "openai"

    chats = by_name(spans, "chat gpt-4o-mini")
    assert len(chats) == llm_turns
    for chat in chats:
        assert parent_of(chat, spans) in tech_turns
        assert chat.kind is SpanKind.CLIENT
        assert chat.status.status_code is StatusCode.UNSET
        attributes = chat.attributes
        assert attributes["gen_ai.operation.name"] == "chat"
        assert attributes["gen_ai.provider.name"] == "openai"
        assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
        assert attributes["gen_ai.response.model"] == "gpt-4o-mini"
        assert attributes["gen_ai.response.id"].startswith("chatcmpl-")
        assert attributes["gen_ai.usage.input_tokens"] > 0
        assert attributes["gen_ai.usage.output_tokens"] == 5
        assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
        assert attributes["gen_ai.agent.name"] == "tech_agent"
        assert attributes["server.address"] == "127.0.0.1"
    assert conversation.attributes["gen_ai.usage.output_tokens"] == 5 * llm_turns


def test_run_and_process(instrument, span_exporter, llm):
    llm.push("Run it under gdb.", "Then read the backtrace.")
    user_proxy, tech_agent = build_agents(llm.base_url)
    response = user_proxy.run(tech_agent, message=QUESTION, max_turns=2)
    response.process()
    assert_seed_tree(span_exporter.get_finished_spans(), llm_turns=2)


def test_initiate_chat(instrument, span_exporter, llm):
    llm.push("Run it under gdb.", "Then read the backtrace.")
    user_proxy, tech_agent = build_agents(llm.base_url)
    user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=2)
    assert_seed_tree(span_exporter.get_finished_spans(), llm_turns=2)


def test_a_initiate_chat(instrument, span_exporter, llm):
    llm.push("Run it under gdb.", "Then read the backtrace.")
    user_proxy, tech_agent = build_agents(llm.base_url)
    asyncio.run(user_proxy.a_initiate_chat(tech_agent, message=QUESTION, max_turns=2))
    assert_seed_tree(span_exporter.get_finished_spans(), llm_turns=2)


def test_agents_built_before_instrument_are_traced_and_restored(tracer_provider, span_exporter, llm):
    from opentelemetry_instrumentation_ag2 import AG2Instrumentor

    llm.push("Run it under gdb.", "Then read the backtrace.")
    user_proxy, tech_agent = build_agents(llm.base_url)
    reply_functions = [entry["reply_func"] for entry in tech_agent._reply_func_list]
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        asyncio.run(user_proxy.a_initiate_chat(tech_agent, message=QUESTION, max_turns=2))
    finally:
        instrumentor.uninstrument()
    assert_seed_tree(span_exporter.get_finished_spans(), llm_turns=2)
    assert [entry["reply_func"] for entry in tech_agent._reply_func_list] == reply_functions
    assert all(
        a is b for a, b in zip((e["reply_func"] for e in tech_agent._reply_func_list), reply_functions, strict=False)
    )


def test_initiate_chats_has_one_parent(instrument, span_exporter, llm):
    llm.push("first", "second")
    user_proxy, tech_agent = build_agents(llm.base_url)
    user_proxy.initiate_chats(
        [
            {"recipient": tech_agent, "message": "one", "max_turns": 1, "summary_method": "last_msg"},
            {"recipient": tech_agent, "message": "two", "max_turns": 1, "summary_method": "last_msg"},
        ]
    )
    spans = span_exporter.get_finished_spans()
    parent = one(spans, "initiate_chats user_proxy")
    conversations = by_name(spans, "conversation user_proxy")
    assert len(conversations) == 2
    assert all(parent_of(c, spans) is parent for c in conversations)
    assert len({c.attributes["gen_ai.conversation.id"] for c in conversations}) == 2


def test_tool_call_and_failing_tool(instrument, span_exporter, llm):
    llm.push(
        {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_ok"}]},
        {"tool_calls": [{"name": "broken_tool", "arguments": {}, "id": "call_bad"}]},
        "Done.",
    )
    user_proxy, tech_agent = build_agents(llm.base_url)

    def get_weather(city: str) -> str:
        return f"Sunny in {city}"

    def broken_tool() -> str:
        raise ValueError("disk on fire")

    register_function(get_weather, caller=tech_agent, executor=user_proxy, description="Weather for a city")
    register_function(broken_tool, caller=tech_agent, executor=user_proxy, description="Always fails")
    result = user_proxy.initiate_chat(tech_agent, message="Weather in Paris?", max_turns=3)
    assert "disk on fire" in str(result.chat_history)

    spans = span_exporter.get_finished_spans()
    ok = one(spans, "execute_tool get_weather")
    assert ok.attributes["gen_ai.tool.name"] == "get_weather"
    assert ok.attributes["gen_ai.tool.call.id"] == "call_ok"
    assert ok.attributes["gen_ai.tool.type"] == "function"
    assert ok.attributes["gen_ai.tool.description"] == "Weather for a city"  # registered on the caller
    assert ok.attributes["gen_ai.operation.name"] == "execute_tool"
    assert ok.status.status_code is StatusCode.UNSET
    assert parent_of(ok, spans).name == "invoke_agent user_proxy"

    failed = one(spans, "execute_tool broken_tool")
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes["error.type"] == "ValueError"  # the tool's own exception, although AG2 caught it
    (raised,) = [event for event in failed.events if event.name == "exception"]
    assert raised.attributes["exception.type"] == "ValueError"
    assert raised.attributes["exception.message"] == "disk on fire"
    assert "in broken_tool" in raised.attributes["exception.stacktrace"]
    assert failed.attributes["gen_ai.tool.call.id"] == "call_bad"
    chats = by_name(spans, "chat gpt-4o-mini")
    assert [c.attributes["gen_ai.response.finish_reasons"] for c in chats] == [("tool_calls",)] * 2 + [("stop",)]


def test_a_tool_the_model_made_up_or_gave_broken_arguments_is_an_error_of_its_own_type(instrument, span_exporter, llm):
    llm.push(
        {"tool_calls": [{"name": "get_forecast", "arguments": {"city": "Paris"}, "id": "call_made_up"}]},
        {"tool_calls": [{"name": "get_weather", "arguments": '{"city": "Par', "id": "call_cut_short"}]},
        "Done.",
    )
    user_proxy, tech_agent = build_agents(llm.base_url)

    def get_weather(city: str) -> str:
        return f"Sunny in {city}"

    register_function(get_weather, caller=tech_agent, executor=user_proxy, description="Weather for a city")
    user_proxy.initiate_chat(tech_agent, message="Weather in Paris?", max_turns=3)

    spans = span_exporter.get_finished_spans()
    made_up = one(spans, "execute_tool get_forecast")
    assert made_up.status.status_code is StatusCode.ERROR
    assert made_up.attributes["error.type"] == "ToolNotFoundError"
    cut_short = one(spans, "execute_tool get_weather")
    assert cut_short.status.status_code is StatusCode.ERROR
    assert cut_short.attributes["error.type"] == "ToolArgumentsError"


def test_async_tool(instrument, span_exporter, llm):
    llm.push({"tool_calls": [{"name": "lookup", "arguments": {"key": "a"}}]}, "Done.")
    user_proxy, tech_agent = build_agents(llm.base_url)

    async def lookup(key: str) -> str:
        return key.upper()

    register_function(lookup, caller=tech_agent, executor=user_proxy, description="Look up a key")
    asyncio.run(user_proxy.a_initiate_chat(tech_agent, message="look up a", max_turns=2))
    spans = span_exporter.get_finished_spans()
    tool = one(spans, "execute_tool lookup")
    assert parent_of(tool, spans).name == "invoke_agent user_proxy"
    assert len({s.context.trace_id for s in spans}) == 1


def test_human_input(instrument, span_exporter, llm, monkeypatch):
    llm.push("What else?")
    monkeypatch.setattr(builtins, "input", lambda prompt="": "exit")
    user_proxy, tech_agent = build_agents(llm.base_url)
    user_proxy.human_input_mode = "ALWAYS"
    user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=2)
    spans = span_exporter.get_finished_spans()
    waiting = one(spans, "await_human_input user_proxy")
    assert waiting.attributes["gen_ai.operation.name"] == "await_human_input"
    assert waiting.attributes["ag2.human_input.mode"] == "ALWAYS"
    assert "ag2.human_input.response" not in waiting.attributes
    assert parent_of(waiting, spans).name == "invoke_agent user_proxy"


@pytest.mark.parametrize(("code", "exit_code"), [("print('hi')", 0), ("import sys; sys.exit(3)", 3)])
def test_code_execution_legacy(instrument, span_exporter, llm, tmp_path, code, exit_code):
    llm.push(f"```python\n{code}\n```")
    _, tech_agent = build_agents(llm.base_url)
    user_proxy = ConversableAgent(
        "user_proxy",
        llm_config=False,
        human_input_mode="NEVER",
        code_execution_config={"work_dir": str(tmp_path), "use_docker": False},
    )
    user_proxy.initiate_chat(tech_agent, message="run something", max_turns=2)
    spans = span_exporter.get_finished_spans()
    execution = one(spans, "execute_code user_proxy")
    assert execution.attributes["ag2.code_execution.exit_code"] == exit_code
    assert execution.attributes["ag2.code_execution.languages"] == ("python",)
    assert "ag2.code_execution.output" not in execution.attributes
    assert (execution.status.status_code is StatusCode.ERROR) == (exit_code != 0)
    assert parent_of(execution, spans).name == "invoke_agent user_proxy"


def test_code_execution_with_executor(instrument, span_exporter, llm, tmp_path):
    llm.push("```python\nprint('hi')\n```")
    _user_proxy, tech_agent = build_agents(llm.base_url)
    runner = ConversableAgent(
        "runner",
        llm_config=False,
        human_input_mode="NEVER",
        code_execution_config={"executor": LocalCommandLineCodeExecutor(work_dir=tmp_path)},
    )
    runner.initiate_chat(tech_agent, message="write code", max_turns=2)
    spans = span_exporter.get_finished_spans()
    execution = one(spans, "execute_code runner")
    assert execution.attributes["ag2.code_execution.exit_code"] == 0
    assert parent_of(execution, spans).name == "invoke_agent runner"


def test_llm_error_is_recorded_and_reraised(instrument, span_exporter, llm):
    llm.push({"status": 500, "body": {"message": "model overloaded"}})
    user_proxy, tech_agent = build_agents(llm.base_url)
    with pytest.raises(openai.InternalServerError) as raised:
        user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=2)
    assert "model overloaded" in str(raised.value)
    spans = span_exporter.get_finished_spans()
    for name in ("chat gpt-4o-mini", "invoke_agent tech_agent", "conversation user_proxy"):
        span = one(spans, name)
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes["error.type"] == "openai.InternalServerError"
    chat = one(spans, "chat gpt-4o-mini")
    assert [event.name for event in chat.events] == ["exception"]


def test_application_exception_passes_through_unchanged(instrument, span_exporter, llm):
    class Boom(Exception):
        pass

    error = Boom("from the app")
    user_proxy, tech_agent = build_agents(llm.base_url)

    def explode(agent, messages=None, sender=None, config=None):
        raise error

    tech_agent.register_reply([ConversableAgent, None], explode)
    with pytest.raises(Boom) as raised:
        user_proxy.initiate_chat(tech_agent, message="hi", max_turns=1)
    assert raised.value is error
    turn = one(span_exporter.get_finished_spans(), "invoke_agent tech_agent")
    assert turn.attributes["error.type"].endswith("Boom")


def test_request_parameters_are_what_the_model_was_sent(instrument, span_exporter, llm):
    """``gen_ai.request.*`` as AG2 sends them: a config entry's settings over the call's, the call's otherwise."""
    from autogen import OpenAIWrapper

    llm.push("One.", "Two.")
    config = llm.llm_config(temperature=0.2, max_tokens=50, max_retries=0)
    wrapper = OpenAIWrapper(config_list=[config.config_list[0].model_dump(exclude_none=True)], cache_seed=None)
    message = [{"role": "user", "content": "hi"}]
    wrapper.create(messages=message)
    wrapper.create(messages=message, model="gpt-4o", temperature=0.7, top_p=0.5)

    first, second = span_exporter.wait_for(lambda spans: len(spans) >= 2)
    assert [(r["model"], r["temperature"], r["max_tokens"], r.get("top_p")) for r in llm.requests] == [
        ("gpt-4o-mini", 0.2, 50, None),
        ("gpt-4o-mini", 0.2, 50, 0.5),
    ]
    for span in (first, second):
        assert span.name == "chat gpt-4o-mini"
        assert span.attributes["gen_ai.request.model"] == "gpt-4o-mini"
        assert span.attributes["gen_ai.request.temperature"] == 0.2
        assert span.attributes["gen_ai.request.max_tokens"] == 50
    assert "gen_ai.request.top_p" not in first.attributes
    assert second.attributes["gen_ai.request.top_p"] == 0.5


def _entry(model: ScriptedLLM, name: str) -> dict:
    return model.llm_config(name, max_retries=0).config_list[0].model_dump(exclude_none=True)


def test_a_call_that_falls_back_is_described_by_the_config_entry_that_answered(
    instrument, span_exporter, metric_reader, llm
):
    from autogen import OpenAIWrapper

    with ScriptedLLM() as backup:
        llm.push({"status": 500})
        backup.push("From the backup.")
        wrapper = OpenAIWrapper(config_list=[_entry(llm, "gpt-4o"), _entry(backup, "gpt-4o-mini")], cache_seed=None)
        wrapper.create(messages=[{"role": "user", "content": "hi"}])
        (chat,) = span_exporter.wait_for(lambda spans: len(spans) >= 1)
        backup_port = backup.port

    assert (len(llm.requests), len(backup.requests)) == (1, 1)
    assert chat.name == "chat gpt-4o-mini"
    assert chat.status.status_code is StatusCode.UNSET
    assert chat.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert chat.attributes["server.port"] == backup_port
    assert chat.attributes["gen_ai.usage.output_tokens"] == 5
    points = [
        (metric.name, point.attributes["gen_ai.request.model"], point.attributes["server.port"])
        for resource in metric_reader.get_metrics_data().resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
    ]
    assert sorted(points) == [
        ("gen_ai.client.operation.duration", "gpt-4o-mini", backup_port),
        ("gen_ai.client.token.usage", "gpt-4o-mini", backup_port),
        ("gen_ai.client.token.usage", "gpt-4o-mini", backup_port),
    ]


def test_round_robin_calls_are_each_described_by_their_own_config_entry(instrument, span_exporter, llm):
    from autogen import OpenAIWrapper

    with ScriptedLLM() as second:
        llm.push("One.", "Three.")
        second.push("Two.")
        wrapper = OpenAIWrapper(
            config_list=[_entry(llm, "gpt-4o"), _entry(second, "gpt-4o-mini")],
            routing_method="round_robin",
            cache_seed=None,
        )
        for _ in range(3):
            wrapper.create(messages=[{"role": "user", "content": "hi"}])
        chats = span_exporter.wait_for(lambda spans: len(spans) >= 3)
        ports = (llm.port, second.port)

    assert [(chat.name, chat.attributes["server.port"]) for chat in chats] == [
        ("chat gpt-4o", ports[0]),
        ("chat gpt-4o-mini", ports[1]),
        ("chat gpt-4o", ports[0]),
    ]
    assert [chat.attributes["gen_ai.request.model"] for chat in chats] == ["gpt-4o", "gpt-4o-mini", "gpt-4o"]


def test_prompt_cache_and_reasoning_tokens_as_the_provider_reports_them(instrument, span_exporter, llm):
    from autogen import OpenAIWrapper

    details = {"prompt_tokens_details": {"cached_tokens": 8}, "completion_tokens_details": {"reasoning_tokens": 3}}
    llm.push({"content": "Thought it through.", "usage_details": details}, "Plain.")
    wrapper = OpenAIWrapper(config_list=[_entry(llm, "o4-mini")], cache_seed=None)
    for _ in range(2):
        wrapper.create(messages=[{"role": "user", "content": "hi"}])

    detailed, plain = span_exporter.wait_for(lambda spans: len(spans) >= 2)
    assert detailed.attributes["gen_ai.usage.cache_read.input_tokens"] == 8
    assert detailed.attributes["gen_ai.usage.reasoning.output_tokens"] == 3
    assert "gen_ai.usage.cache_read.input_tokens" not in plain.attributes
    assert "gen_ai.usage.reasoning.output_tokens" not in plain.attributes


def test_the_other_request_parameters_of_the_conventions(instrument, span_exporter, llm):
    from autogen import OpenAIWrapper

    llm.push("One.", "Two.", "Three.")
    entry = {**_entry(llm, "gpt-4o-mini"), "seed": 7, "stop": ["END", "STOP"]}
    wrapper = OpenAIWrapper(config_list=[entry], cache_seed=None)
    message = [{"role": "user", "content": "hi"}]
    wrapper.create(messages=message, presence_penalty=0.5, frequency_penalty=0.25, n=1)
    wrapper.create(messages=message, n=2, stop="ignored: the entry's own wins")
    OpenAIWrapper(config_list=[_entry(llm, "gpt-4o-mini")], cache_seed=None).create(messages=message, stop="END")

    first, second, third = span_exporter.wait_for(lambda spans: len(spans) >= 3)
    assert [(r.get("seed"), r.get("stop"), r.get("n")) for r in llm.requests] == [
        (7, ["END", "STOP"], 1),
        (7, ["END", "STOP"], 2),
        (None, "END", None),
    ]
    assert third.attributes["gen_ai.request.stop_sequences"] == ("END",)
    assert "gen_ai.request.seed" not in third.attributes
    assert first.attributes["gen_ai.request.presence_penalty"] == 0.5
    assert first.attributes["gen_ai.request.frequency_penalty"] == 0.25
    assert "gen_ai.request.choice.count" not in first.attributes  # 1 is the default
    assert second.attributes["gen_ai.request.choice.count"] == 2
    for span in (first, second):
        assert span.attributes["gen_ai.request.seed"] == 7
        assert span.attributes["gen_ai.request.stop_sequences"] == ("END", "STOP")


def test_structured_output_is_said_as_the_output_type(instrument, span_exporter, llm):
    from autogen import OpenAIWrapper
    from pydantic import BaseModel

    class Answer(BaseModel):
        text: str

    llm.push('{"text": "Structured."}', '{"text": "JSON."}', "Plain.")
    message = [{"role": "user", "content": "hi"}]
    OpenAIWrapper(config_list=[{**_entry(llm, "gpt-4o-mini"), "response_format": Answer}], cache_seed=None).create(
        messages=message
    )
    wrapper = OpenAIWrapper(config_list=[_entry(llm, "gpt-4o-mini")], cache_seed=None)
    wrapper.create(messages=message, response_format={"type": "json_object"})
    wrapper.create(messages=message)

    structured, json_mode, plain = span_exporter.wait_for(lambda spans: len(spans) >= 3)
    assert structured.status.status_code is StatusCode.UNSET
    assert structured.attributes["gen_ai.output.type"] == "json"
    assert json_mode.attributes["gen_ai.output.type"] == "json"
    assert plain.attributes["gen_ai.output.type"] == "text"  # the conventions: what a plain chat gives
