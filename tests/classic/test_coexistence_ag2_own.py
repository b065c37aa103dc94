"""Coexistence with AG2's own opt-in tracing (``autogen.opentelemetry``) in every kind of AG2 run.

AG2's ``instrument_llm_wrapper``, ``instrument_agent`` and ``instrument_pattern`` (wired as AG2's docs show)
trace the same operations ours do. Whichever is set up first, every operation of a group chat (each speaker
selection method), a pattern run, tools, code execution, human input, nested and sequential chats shows up
exactly once, the run is one tree, and every failure is still marked ``ERROR`` with an ``error.type``.

One thing is AG2's own and stays so: its span of a group-chat manager's turn (ours shows that turn as the
group's ``conversation``; with both on, the turns nest under AG2's, once each). Agents an application wires
to AG2's tracing in code *before* ``instrument()``, and LLM calls once AG2's ``instrument_llm_wrapper`` ran
before it, are traced exactly as when ours came first.
"""

from __future__ import annotations

import builtins
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from autogen import ConversableAgent, GroupChat, GroupChatManager, register_function
from autogen.agentchat import initiate_group_chat, run_group_chat
from autogen.agentchat.group import AgentTarget, TerminateTarget
from autogen.agentchat.group.patterns import AutoPattern, DefaultPattern
from autogen.coding import LocalCommandLineCodeExecutor
from autogen.oai.client import OpenAIWrapper
from openai import InternalServerError
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from opentelemetry_instrumentation_ag2.classic.own_tracing import SELECTION_WRAPPERS

from .agents_app import QUESTION, llm_config, two_agent_group_chat
from .conftest import parent_of

pytestmark = pytest.mark.timeout(60)

SPAN_TYPE = "ag2.span.type"


@dataclass
class Scenario:
    """An AG2 run, what AG2's own tracing is wired to, and the spans it must give."""

    run: Callable[[], Any]
    agents: list[ConversableAgent] = field(default_factory=list)
    """Passed to ``instrument_agent``."""
    patterns: list[Any] = field(default_factory=list)
    """Passed to ``instrument_pattern``."""
    span_types: dict[str, int] = field(default_factory=dict)
    """How many spans of each ``ag2.span.type`` (all of them: a type not listed must not appear)."""
    names: dict[str, int] = field(default_factory=dict)
    """How many spans of some names."""
    failed: dict[str, int] = field(default_factory=dict)
    """How many failed spans of each name: only these are ``ERROR``, each with an ``error.type``."""
    raises: type[BaseException] | None = None
    """What the run raises, if it fails."""


MANAGER = "chat_manager"
MANAGER_TURN = 1
"""AG2's own span of the manager's turn, under which the group's turns run (ours makes none of its own)."""


def picks(selections: Sequence[str]) -> Callable[[dict[str, Any]], str]:
    """Scripted replies: a speaker selection gets the next of ``selections``, anything else a turn text."""
    chosen = iter(selections)
    turns = iter(range(1, 100))

    def reply(request: dict[str, Any]) -> str:
        if "next role" in json.dumps(request.get("messages", [])):
            return next(chosen, "TERMINATE")
        return f"turn {next(turns)}"

    return reply


def agent(llm, name: str, **options: Any) -> ConversableAgent:
    return ConversableAgent(name, llm_config=llm_config(llm.base_url), human_input_mode="NEVER", **options)


def user(name: str = "user", **options: Any) -> ConversableAgent:
    options.setdefault("human_input_mode", "NEVER")
    return ConversableAgent(name, llm_config=False, **options)


def group_chat(method: str) -> Callable[..., Scenario]:
    def build(llm, tmp_path, monkeypatch) -> Scenario:
        llm.default = picks(["research_agent", "tech_agent", "research_agent"])
        tech, research = agent(llm, "tech_agent"), agent(llm, "research_agent")
        monkeypatch.setattr(builtins, "input", lambda prompt="": "2")  # manual selection: the second agent

        manager = two_agent_group_chat(tech, research, method, llm.base_url)
        initiator = user()
        turns = 3  # each after a speaker selection; an LLM-based one is a turn of its own speaker_selection_agent
        asked = turns if method == "auto" else 0
        return Scenario(
            run=lambda: initiator.initiate_chat(manager, message=QUESTION),
            agents=[initiator, tech, research, manager],
            span_types={
                "conversation": 1,
                "speaker_selection": turns,
                "agent": MANAGER_TURN + turns + asked,
                "llm": turns + asked,
            },
            names={"speaker_selection": turns, "invoke_agent speaker_selection_agent": asked},
        )

    return build


def auto_pattern(llm, tmp_path, monkeypatch) -> Scenario:
    llm.default = picks(["tech_agent", "research_agent"])
    triage, tech, research = agent(llm, "triage_agent"), agent(llm, "tech_agent"), agent(llm, "research_agent")
    pattern = AutoPattern(
        initial_agent=triage,
        agents=[triage, tech, research],
        user_agent=user(),
        group_manager_args={"llm_config": llm_config(llm.base_url)},
    )
    return Scenario(
        run=lambda: initiate_group_chat(pattern=pattern, messages=QUESTION, max_rounds=4),
        patterns=[pattern],
        span_types={"conversation": 1, "speaker_selection": 3, "agent": MANAGER_TURN + 5, "llm": 5},
        names={"speaker_selection": 3, "invoke_agent speaker_selection_agent": 2},
    )


def default_pattern_run(llm, tmp_path, monkeypatch) -> Scenario:
    llm.default = picks([])
    tech, research = agent(llm, "tech_agent"), agent(llm, "research_agent")
    tech.handoffs.set_after_work(AgentTarget(research))
    research.handoffs.set_after_work(TerminateTarget())
    pattern = DefaultPattern(initial_agent=tech, agents=[tech, research])
    return Scenario(
        run=lambda: run_group_chat(pattern=pattern, messages=QUESTION, max_rounds=10).process(),
        patterns=[pattern],
        span_types={"conversation": 1, "speaker_selection": 3, "agent": MANAGER_TURN + 2, "llm": 2},
        names={"invoke_agent tech_agent": 1, "invoke_agent research_agent": 1},
    )


def default_pattern_wired_in_code(llm, tmp_path, monkeypatch) -> Scenario:
    """The app wires its agents (``instrument_agent``) and its pattern to AG2's tracing itself."""
    llm.default = picks([])
    initiator, tech, research = user(), agent(llm, "tech_agent"), agent(llm, "research_agent")
    tech.handoffs.set_after_work(AgentTarget(research))
    research.handoffs.set_after_work(TerminateTarget())
    pattern = DefaultPattern(initial_agent=tech, agents=[tech, research], user_agent=initiator)
    return Scenario(
        run=lambda: initiate_group_chat(pattern=pattern, messages=QUESTION, max_rounds=10),
        agents=[initiator, tech, research],
        patterns=[pattern],
        span_types={"conversation": 1, "speaker_selection": 3, "agent": MANAGER_TURN + 2, "llm": 2},
        names={"conversation user": 1, "invoke_agent tech_agent": 1, "invoke_agent research_agent": 1},
    )


def get_weather(city: str) -> str:
    return f"Sunny in {city}."


def get_forecast(city: str) -> str:
    raise ValueError(f"no forecast for {city}")


def tools(llm, tmp_path, monkeypatch) -> Scenario:
    assistant, executor = agent(llm, "assistant"), user("user_proxy")
    register_function(get_weather, caller=assistant, executor=executor, description="Today's weather.")
    register_function(get_forecast, caller=assistant, executor=executor, description="Tomorrow's weather.")
    calls = [
        {"name": "get_weather", "arguments": {"city": "Paris"}},
        {"name": "get_forecast", "arguments": {"city": "Paris"}},
    ]
    llm.push({"tool_calls": calls, "content": None}, "Sunny today; no forecast.")
    return Scenario(
        run=lambda: executor.initiate_chat(assistant, message="Weather in Paris?", max_turns=2),
        agents=[assistant, executor],
        span_types={"conversation": 1, "agent": 3, "llm": 2, "tool": 2},
        names={"execute_tool get_weather": 1, "execute_tool get_forecast": 1},
        failed={"execute_tool get_forecast": 1},
    )


def code_execution(llm, tmp_path, monkeypatch) -> Scenario:
    executor = user(
        "user_proxy", code_execution_config={"executor": LocalCommandLineCodeExecutor(timeout=30, work_dir=tmp_path)}
    )
    assistant = agent(llm, "assistant")
    llm.push("```python\nprint('hello')\n```", "```python\nimport sys\nsys.exit(3)\n```")
    return Scenario(
        run=lambda: executor.initiate_chat(assistant, message="Print hello, then fail.", max_turns=3),
        agents=[executor, assistant],
        span_types={"conversation": 1, "agent": 5, "llm": 3, "code_execution": 2},
        names={"execute_code user_proxy": 2},
        failed={"execute_code user_proxy": 1},
    )


def human_input(llm, tmp_path, monkeypatch) -> Scenario:
    answers = iter(["Please be brief.", "exit"])
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(answers))
    human, assistant = user("user_proxy", human_input_mode="ALWAYS"), agent(llm, "assistant")
    llm.push("Run it under gdb.", "Then read the backtrace.")
    return Scenario(
        run=lambda: human.initiate_chat(assistant, message=QUESTION),
        agents=[human, assistant],
        span_types={"conversation": 1, "agent": 4, "llm": 2, "human_input": 2},
        names={"await_human_input user_proxy": 2},
    )


def nested_chats(llm, tmp_path, monkeypatch) -> Scenario:
    initiator, writer, critic = user("user_proxy"), agent(llm, "writer"), agent(llm, "critic")
    writer.register_nested_chats(
        [{"recipient": critic, "message": "Review the question.", "summary_method": "last_msg", "max_turns": 1}],
        trigger=initiator,
    )
    llm.push("Looks fine to me.")
    return Scenario(
        run=lambda: initiator.initiate_chat(writer, message=QUESTION, max_turns=1),
        agents=[initiator, writer, critic],
        span_types={"conversation": 2, "agent": 2, "llm": 1},
        names={"conversation user_proxy": 1, "conversation writer": 1, "invoke_agent critic": 1},
    )


def sequential_chats(llm, tmp_path, monkeypatch) -> Scenario:
    initiator, first, second = user("user_proxy"), agent(llm, "first_agent"), agent(llm, "second_agent")
    llm.push("First answer.", "Second answer.")
    chats = [
        {"recipient": first, "message": QUESTION, "max_turns": 1, "summary_method": "last_msg"},
        {"recipient": second, "message": "And then?", "max_turns": 1, "summary_method": "last_msg"},
    ]
    return Scenario(
        run=lambda: initiator.initiate_chats(chats),
        agents=[initiator, first, second],
        span_types={"multi_conversation": 1, "conversation": 2, "agent": 2, "llm": 2},
        names={"conversation user_proxy": 2},
    )


def failing_llm_call(llm, tmp_path, monkeypatch) -> Scenario:
    initiator, assistant = user("user_proxy"), agent(llm, "assistant")
    llm.push({"status": 500})
    return Scenario(
        run=lambda: initiator.initiate_chat(assistant, message=QUESTION, max_turns=1),
        agents=[initiator, assistant],
        span_types={"conversation": 1, "agent": 1, "llm": 1},
        failed={"conversation user_proxy": 1, "invoke_agent assistant": 1, "chat gpt-4o-mini": 1},
        raises=InternalServerError,
    )


FAILING = ("tools", "code_execution", "failing_llm_call")
"""The scenarios with failures: a tool that raises, code that exits non-zero, an LLM call answered with a 500."""

SCENARIOS: dict[str, Callable[..., Scenario]] = {
    **{
        f"group_chat_{method}": group_chat(method) for method in ("auto", "round_robin", "random", "manual", "callable")
    },
    "auto_pattern": auto_pattern,
    "default_pattern_run": default_pattern_run,
    "default_pattern_wired_in_code": default_pattern_wired_in_code,
    "tools": tools,
    "code_execution": code_execution,
    "human_input": human_input,
    "nested_chats": nested_chats,
    "sequential_chats": sequential_chats,
    "failing_llm_call": failing_llm_call,
}


def ag2_own_tracing(tracer_provider, scenario: Scenario) -> None:
    from autogen.opentelemetry import instrument_agent, instrument_llm_wrapper, instrument_pattern

    instrument_llm_wrapper(tracer_provider=tracer_provider)
    for each in scenario.agents:
        instrument_agent(each, tracer_provider=tracer_provider)
    for pattern in scenario.patterns:
        instrument_pattern(pattern, tracer_provider=tracer_provider)


def tree(spans: Sequence[ReadableSpan]) -> str:
    """The spans as an indented tree: name, scope, span type, status and error type."""

    def lines(parent: ReadableSpan | None, depth: int) -> Iterator[str]:
        for span in sorted(spans, key=lambda s: s.start_time):
            if parent_of(span, spans) is parent:
                yield (
                    f"{'  ' * depth}{span.name} [{span.instrumentation_scope.name}] "
                    f"type={span.attributes.get(SPAN_TYPE)} status={span.status.status_code.name} "
                    f"error.type={span.attributes.get('error.type')}"
                )
                yield from lines(span, depth + 1)

    return "\n".join(lines(None, 0))


def run_traced(scenario: Scenario, tracer_provider, span_exporter, ours_first: bool) -> tuple[ReadableSpan, ...]:
    """Run the scenario with ours and AG2's own tracing set up in the given order; its spans."""
    instrumentor = AG2Instrumentor()
    if ours_first:
        instrumentor.instrument(tracer_provider=tracer_provider)
        ag2_own_tracing(tracer_provider, scenario)
    else:
        ag2_own_tracing(tracer_provider, scenario)
        instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        if scenario.raises is None:
            scenario.run()
        else:
            with pytest.raises(scenario.raises):
                scenario.run()
    finally:
        instrumentor.uninstrument()
    return span_exporter.get_finished_spans()


@pytest.fixture
def traced(tracer_provider, span_exporter, llm, monkeypatch, tmp_path, ours_first):
    """Runs a scenario by name under both tracings; returns it and its spans."""
    # AG2's helper replaces OpenAIWrapper.create for good: put the class back after the test
    monkeypatch.setattr(OpenAIWrapper, "create", OpenAIWrapper.create)

    def run(name: str) -> tuple[Scenario, tuple[ReadableSpan, ...]]:
        scenario = SCENARIOS[name](llm, tmp_path, monkeypatch)
        return scenario, run_traced(scenario, tracer_provider, span_exporter, ours_first)

    return run


ORDERS = pytest.mark.parametrize("ours_first", [True, False], ids=["ours-first", "ag2-first"])


@pytest.mark.parametrize("name", list(SCENARIOS))
@ORDERS
def test_with_ag2_own_tracing_each_operation_is_one_span_in_one_tree(traced, name):
    scenario, spans = traced(name)
    shown = tree(spans)
    doubled = [
        f"{parent.name} > {span.name}"
        for span in spans
        if (parent := parent_of(span, spans))
        and parent.attributes.get(SPAN_TYPE) == span.attributes.get(SPAN_TYPE)
        and parent.name != f"invoke_agent {MANAGER}"  # the group's turns run inside the manager's
    ]
    assert doubled == [], f"spans under a span of their own type: {doubled}\n{shown}"
    assert Counter(s.attributes.get(SPAN_TYPE) for s in spans) == Counter(scenario.span_types), shown
    names = Counter(s.name for s in spans)
    assert {n: names[n] for n in scenario.names} == scenario.names, shown
    assert len({s.context.trace_id for s in spans}) == 1, shown
    assert len([s for s in spans if s.parent is None]) == 1, shown


@pytest.mark.parametrize("name", FAILING)
@ORDERS
def test_with_ag2_own_tracing_every_failure_is_error_with_its_type(traced, name):
    scenario, spans = traced(name)
    shown = tree(spans)
    failed = [s for s in spans if s.status.status_code is StatusCode.ERROR]
    assert Counter(s.name for s in failed) == Counter(scenario.failed), shown
    assert [s.name for s in failed if not s.attributes.get("error.type")] == [], shown


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_with_ag2_own_tracing_both_orders_give_the_same_spans(
    tracer_provider, span_exporter, llm, monkeypatch, tmp_path, name
):
    create = OpenAIWrapper.create  # AG2's helper replaces it for good: each order starts from the class's own
    trees = {}
    for ours_first in (True, False):
        monkeypatch.setattr(OpenAIWrapper, "create", create)
        span_exporter.clear()
        random.seed(name)  # the same picks for the random speaker selection
        scenario = SCENARIOS[name](llm, tmp_path, monkeypatch)
        trees[ours_first] = tree(run_traced(scenario, tracer_provider, span_exporter, ours_first))
    assert trees[False] == trees[True]


def start_group_chat(pattern: Any) -> None:
    initiate_group_chat(pattern=pattern, messages=QUESTION, max_rounds=3)


def run_group_chat_in_thread(pattern: Any) -> None:
    run_group_chat(pattern=pattern, messages=QUESTION, max_rounds=3).process()


def serve_requests(llm, tracer_provider, ours_first: bool, start: Callable[[Any], None], requests: int) -> None:
    """An app whose agents live on, wired to AG2's tracing at start-up, that builds a pattern for every request
    and wires it too; ours instrumented before or after that start-up."""
    from autogen.opentelemetry import instrument_agent, instrument_llm_wrapper, instrument_pattern

    triage, tech, research = agent(llm, "triage_agent"), agent(llm, "tech_agent"), agent(llm, "research_agent")
    initiator = user()
    instrumentor = AG2Instrumentor()
    if ours_first:
        instrumentor.instrument(tracer_provider=tracer_provider)
    instrument_llm_wrapper(tracer_provider=tracer_provider)
    for each in (initiator, triage, tech, research):
        instrument_agent(each, tracer_provider=tracer_provider)
    if not ours_first:
        instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        for _request in range(requests):
            group_manager_args = {"llm_config": llm_config(llm.base_url)}
            pattern = AutoPattern(triage, [triage, tech, research], initiator, group_manager_args)
            start(instrument_pattern(pattern, tracer_provider=tracer_provider))
    finally:
        instrumentor.uninstrument()


@pytest.mark.parametrize("start", [start_group_chat, run_group_chat_in_thread], ids=["initiate", "run"])
@ORDERS
def test_a_pattern_wired_to_ag2_own_tracing_per_request_gives_one_speaker_selection_per_selection(
    tracer_provider, span_exporter, llm, monkeypatch, ours_first, start
):
    monkeypatch.setattr(OpenAIWrapper, "create", OpenAIWrapper.create)
    made = []
    select_speaker = GroupChat.select_speaker

    def counted(groupchat: GroupChat, *args: Any) -> Any:
        made.append(groupchat)
        return select_speaker(groupchat, *args)

    monkeypatch.setattr(GroupChat, "select_speaker", counted)  # beneath ours: the selections AG2 really makes
    llm.default = picks(["tech_agent", "research_agent", "tech_agent"])
    serve_requests(llm, tracer_provider, ours_first, start, requests=3)
    spans = span_exporter.get_finished_spans()
    shown = tree(spans)
    selections = [s for s in spans if s.name == "speaker_selection"]
    assert len(made) == 6, shown  # two per request: the initial agent, then one the model picks
    assert len(selections) == len(made), shown
    assert {parent_of(s, spans).name for s in selections} == {f"invoke_agent {MANAGER}"}, shown
    assert [s.name for s in spans if s.parent is None] == ["conversation user"] * 3, shown
    assert len({s.context.trace_id for s in spans}) == 3, shown
    assert Counter(s.attributes.get(SPAN_TYPE) for s in spans)["conversation"] == 3, shown


def captured_by_ag2_own_wrappers(*agents: ConversableAgent) -> list[Any]:
    """What the closures of AG2's wrappers on these agents hold."""
    wrappers = [value for each in agents for value in vars(each).values() if getattr(value, "__otel_wrapped__", 0)]
    return [cell.cell_contents for wrapper in wrappers for cell in wrapper.__closure__ or ()]


def test_agents_ag2_wrapped_first_answer_the_same_and_get_their_methods_back_after_uninstrument(
    tracer_provider, span_exporter, llm
):
    from autogen.opentelemetry import instrument_agent

    assistant, executor = agent(llm, "assistant"), user("user_proxy")
    register_function(get_forecast, caller=assistant, executor=executor, description="Tomorrow's weather.")
    for each in (assistant, executor):
        instrument_agent(each, tracer_provider=tracer_provider)
    captured = captured_by_ag2_own_wrappers(assistant, executor)

    def chat() -> list[Any]:
        llm.push({"tool_calls": [{"name": "get_forecast", "arguments": {"city": "Paris"}}], "content": None}, "No.")
        result = executor.initiate_chat(assistant, message="Forecast for Paris?", max_turns=2)
        return [(message.get("name"), message.get("content")) for message in result.chat_history]

    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        answered_traced = chat()
    finally:
        instrumentor.uninstrument()
    tool = next(s for s in span_exporter.get_finished_spans() if s.name == "execute_tool get_forecast")
    assert tool.status.status_code is StatusCode.ERROR
    assert [event.attributes.get("exception.type") for event in tool.events] == ["ValueError"]
    span_exporter.clear()
    assert chat() == answered_traced
    restored = captured_by_ag2_own_wrappers(assistant, executor)
    assert len(restored) == len(captured)
    assert all(now is before for now, before in zip(restored, captured, strict=True))
    assert {s.instrumentation_scope.name for s in span_exporter.get_finished_spans()} == {
        "opentelemetry.instrumentation.ag2"
    }


def test_ag2_own_selection_wrappers_are_back_after_uninstrument(tracer_provider, span_exporter, llm):
    from autogen.opentelemetry.instrumentators.pattern import instrument_groupchat

    llm.default = picks(["research_agent", "tech_agent"])
    tech, research = agent(llm, "tech_agent"), agent(llm, "research_agent")
    groupchat = GroupChat([tech, research], messages=[], max_round=3, speaker_selection_method="auto")
    manager = GroupChatManager(groupchat, llm_config=llm_config(llm.base_url))
    instrument_groupchat(groupchat, tracer_provider=tracer_provider)
    for copied in (entry["config"] for entry in manager._reply_func_list):
        if isinstance(copied, GroupChat) and copied is not groupchat:
            instrument_groupchat(copied, tracer_provider=tracer_provider)  # as instrument_pattern does
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        user().initiate_chat(manager, message=QUESTION)
    finally:
        instrumentor.uninstrument()
    spans = span_exporter.get_finished_spans()
    assert {s.instrumentation_scope.name for s in spans if s.name == "speaker_selection"} == {
        "opentelemetry_instrumentation_ag2"
    }
    groupchats = [entry["config"] for entry in manager._reply_func_list if isinstance(entry["config"], GroupChat)]
    assert groupchats
    for each in groupchats:
        assert all(getattr(getattr(each, name), "__otel_wrapped__", False) for name in SELECTION_WRAPPERS)


def llm_calls(llm) -> Scenario:
    """Two answered calls in one chat, then a call the model fails (a 500) in a second chat."""
    initiator, assistant = user("user_proxy"), agent(llm, "assistant")
    llm.push("Run it under gdb.", "Then read the backtrace.", {"status": 500})

    def run() -> None:
        initiator.initiate_chat(assistant, message=QUESTION, max_turns=2)
        initiator.initiate_chat(assistant, message=QUESTION, max_turns=1)

    return Scenario(run=run, agents=[initiator, assistant], raises=InternalServerError)


VARYING = ("gen_ai.response.id", "gen_ai.conversation.id", "ag2.chat.id")
"""Attributes whose values differ from run to run: compared as present, not by value."""


def described(spans: Sequence[ReadableSpan]) -> list[tuple[Any, ...]]:
    """Each span's name, scope, parent, status and attributes (the varying ones as present), in start order."""
    return [
        (
            span.name,
            span.instrumentation_scope.name,
            getattr(parent_of(span, spans), "name", None),
            span.status.status_code.name,
            {key: "present" if key in VARYING else value for key, value in span.attributes.items()},
        )
        for span in sorted(spans, key=lambda s: s.start_time)
    ]


@ORDERS
def test_llm_calls_ag2_wrapped_first_are_annotated_and_rolled_up_as_when_ours_comes_first(
    tracer_provider, span_exporter, llm, monkeypatch, ours_first
):
    monkeypatch.setattr(OpenAIWrapper, "create", OpenAIWrapper.create)
    spans = run_traced(llm_calls(llm), tracer_provider, span_exporter, ours_first)
    shown = tree(spans)
    chats = [s for s in sorted(spans, key=lambda s: s.start_time) if s.attributes.get(SPAN_TYPE) == "llm"]
    assert len(chats) == len(llm.requests) == 3, shown
    *answered, failed = chats
    for chat in chats:
        assert chat.name == "chat gpt-4o-mini"
        assert chat.attributes["gen_ai.request.model"] == "gpt-4o-mini"
        assert chat.attributes.get("server.address") == "127.0.0.1", shown  # ours: AG2's wrapper sets none
        assert parent_of(chat, spans).name == "invoke_agent assistant"
    for chat in answered:
        assert chat.status.status_code is StatusCode.UNSET
        assert chat.attributes["gen_ai.usage.output_tokens"] == 5
        assert chat.attributes.get("gen_ai.response.id", "").startswith("chatcmpl-")  # ours too
    assert failed.status.status_code is StatusCode.ERROR, shown
    assert failed.attributes["error.type"].endswith("InternalServerError"), shown
    first, second = (s for s in spans if s.name == "conversation user_proxy")
    assert first.attributes["gen_ai.usage.output_tokens"] == 5 * len(answered), shown  # our roll-up
    assert first.attributes["gen_ai.usage.input_tokens"] == sum(
        chat.attributes["gen_ai.usage.input_tokens"] for chat in answered
    )
    assert second.status.status_code is StatusCode.ERROR
    assert "gen_ai.usage.output_tokens" not in second.attributes


def test_llm_calls_give_the_same_spans_and_attributes_in_either_order(tracer_provider, span_exporter, llm, monkeypatch):
    create = OpenAIWrapper.create  # AG2's helper replaces it for good: each order starts from the class's own
    seen = {}
    for ours_first in (True, False):
        monkeypatch.setattr(OpenAIWrapper, "create", create)
        span_exporter.clear()
        asked = len(llm.requests)
        spans = run_traced(llm_calls(llm), tracer_provider, span_exporter, ours_first)
        chats = [s for s in spans if s.attributes.get(SPAN_TYPE) == "llm"]
        assert len(chats) == len(llm.requests) - asked == 3, tree(spans)
        seen[ours_first] = described(spans)
    assert seen[False] == seen[True]


def test_ag2_own_llm_wrapper_wired_first_holds_what_it_held_after_uninstrument(
    tracer_provider, span_exporter, llm, monkeypatch
):
    from autogen.opentelemetry import instrument_llm_wrapper

    monkeypatch.setattr(OpenAIWrapper, "create", OpenAIWrapper.create)
    instrument_llm_wrapper(tracer_provider=tracer_provider)
    traced_create = OpenAIWrapper.create
    captured = [cell.cell_contents for cell in traced_create.__closure__]

    def chat() -> tuple[Any, dict[str, Any]]:
        llm.push("Run it under gdb.")
        span_exporter.clear()
        result = user("user_proxy").initiate_chat(agent(llm, "assistant"), message=QUESTION, max_turns=1)
        (span,) = [s for s in span_exporter.get_finished_spans() if s.attributes.get(SPAN_TYPE) == "llm"]
        return result.chat_history, dict(span.attributes)

    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        answered_traced, ours_on = chat()
    finally:
        instrumentor.uninstrument()
    answered, ag2_alone = chat()
    assert answered == answered_traced
    assert ours_on["server.address"] == "127.0.0.1"
    assert "server.address" not in ag2_alone  # AG2's span alone again, as before instrument()
    assert OpenAIWrapper.create is traced_create
    restored = [cell.cell_contents for cell in traced_create.__closure__]
    assert len(restored) == len(captured)
    assert all(now is before for now, before in zip(restored, captured, strict=True))
