"""Group chats and patterns, local and remote agents mixed: one trace rooted at ``conversation chat_manager``."""

from __future__ import annotations

import asyncio
import builtins
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from autogen import ConversableAgent, GroupChat, GroupChatManager
from autogen.a2a import A2aRemoteAgent
from autogen.agentchat import a_initiate_group_chat, a_run_group_chat, initiate_group_chat, run_group_chat
from autogen.agentchat.group import AgentTarget, TerminateTarget
from autogen.agentchat.group.patterns import AutoPattern, DefaultPattern, RandomPattern, RoundRobinPattern
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from .a2a_support import serve_agent
from .agents_app import llm_config, two_agent_group_chat
from .conftest import by_name, parent_of

pytestmark = pytest.mark.timeout(90)

QUESTION = "My API is returning 500 errors intermittently. Help me investigate."


def picks(selections: Sequence[str], default: str = "TERMINATE") -> Callable[[dict[str, Any]], str]:
    """A scripted model answering speaker selections from ``selections`` and everything else with a turn text."""
    chosen = iter(selections)
    turns = iter(range(1, 100))

    def reply(request: dict[str, Any]) -> str:
        if "next role" in json.dumps(request.get("messages", [])):
            return next(chosen, default)
        return f"turn {next(turns)}"

    return reply


def agents(base_url: str, *names: str) -> list[ConversableAgent]:
    return [ConversableAgent(name, llm_config=llm_config(base_url), human_input_mode="NEVER") for name in names]


def root_of(spans: Sequence[ReadableSpan], manager: str = "chat_manager") -> ReadableSpan:
    (root,) = [s for s in spans if s.parent is None]
    assert root.name == f"conversation {manager}"
    assert root.attributes["gen_ai.agent.name"] == manager
    assert root.attributes["ag2.span.type"] == "conversation"
    assert len({s.context.trace_id for s in spans}) == 1
    assert {s.attributes.get("gen_ai.conversation.id") for s in spans} == {root.attributes["gen_ai.conversation.id"]}
    names = {s.name for s in spans}
    assert not names & {"invoke_agent chat_manager", "invoke_agent checking_agent", "conversation checking_agent"}
    return root


def selections(spans: Sequence[ReadableSpan], root: ReadableSpan) -> list[ReadableSpan]:
    found = [s for s in by_name(spans, "speaker_selection")]
    assert found and all(parent_of(s, spans) is root for s in found)
    for selection in found:
        assert selection.attributes["gen_ai.operation.name"] == "speaker_selection"
        assert selection.attributes["ag2.span.type"] == "speaker_selection"
        assert "ag2.speaker_selection.method" in selection.attributes
        assert "ag2.speaker_selection.last_speaker" in selection.attributes
        assert selection.status.status_code is not StatusCode.ERROR
    return sorted(found, key=lambda s: s.start_time)


def turns(spans: Sequence[ReadableSpan], root: ReadableSpan) -> list[ReadableSpan]:
    found = [s for s in spans if s.name.startswith("invoke_agent") and parent_of(s, spans) is root]
    return sorted(found, key=lambda s: s.start_time)


def selected_speakers_speak(spans: Sequence[ReadableSpan], root: ReadableSpan) -> None:
    """Each selection is followed by the selected agent's turn."""
    chosen = [s.attributes.get("ag2.speaker_selection.selected") for s in selections(spans, root)]
    spoken = [s.attributes["gen_ai.agent.name"] for s in turns(spans, root)]
    assert spoken == [name for name in chosen if name != "terminate"][: len(spoken)]


def llm_selections_show_the_selector(spans: Sequence[ReadableSpan], root: ReadableSpan) -> None:
    asked = [s for s in selections(spans, root) if s.attributes.get("ag2.handoff.target", "auto") == "auto"]
    for selection in asked:
        (selector,) = [s for s in spans if parent_of(s, spans) is selection]
        assert selector.name == "invoke_agent speaker_selection_agent"
        (llm_call,) = [s for s in spans if parent_of(s, spans) is selector]
        assert (llm_call.name, llm_call.kind) == ("chat gpt-4o-mini", SpanKind.CLIENT)
        assert set(selection.attributes["ag2.speaker_selection.candidates"]) >= {"tech_agent", "research_agent"}


def auto_pattern(base_url: str) -> AutoPattern:
    triage, tech, research = agents(base_url, "triage_agent", "tech_agent", "research_agent")
    return AutoPattern(
        initial_agent=triage,
        agents=[triage, tech, research],
        user_agent=ConversableAgent("user", human_input_mode="NEVER", llm_config=False),
        group_manager_args={"llm_config": llm_config(base_url)},
    )


@pytest.mark.parametrize("runner", ["run_group_chat", "initiate_group_chat", "a_run_group_chat", "a_initiate_group"])
def test_auto_pattern(instrument, span_exporter, llm, runner):
    llm.default = picks(["tech_agent", "research_agent"])
    pattern = auto_pattern(llm.base_url)
    if runner == "run_group_chat":
        run_group_chat(pattern=pattern, messages=QUESTION, max_rounds=4).process()
    elif runner == "initiate_group_chat":
        initiate_group_chat(pattern=pattern, messages=QUESTION, max_rounds=4)
    elif runner == "a_run_group_chat":

        async def main() -> None:
            response = await a_run_group_chat(pattern=pattern, messages=QUESTION, max_rounds=4)
            await response.process()

        asyncio.run(main())
    else:
        asyncio.run(a_initiate_group_chat(pattern=pattern, messages=QUESTION, max_rounds=4))

    spans = span_exporter.get_finished_spans()
    root = root_of(spans)
    assert root.attributes["ag2.initiator.name"] == "user"
    assert root.attributes["ag2.group_chat.max_round"] == 4
    assert root.attributes["ag2.conversation.termination_reason"] == "Maximum rounds (4) reached"
    assert [s.attributes["gen_ai.agent.name"] for s in turns(spans, root)] == [
        "triage_agent",
        "tech_agent",
        "research_agent",
    ]
    selected_speakers_speak(spans, root)
    llm_selections_show_the_selector(spans, root)
    first = selections(spans, root)[0]
    assert first.attributes["ag2.handoff.reason"] == "initial_agent"
    assert first.attributes["ag2.speaker_selection.selected"] == "triage_agent"
    assert selections(spans, root)[1].attributes["ag2.handoff.reason"] == "group_after_work:GroupManagerTarget"


@pytest.mark.parametrize("pattern_class", [RoundRobinPattern, RandomPattern])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_round_robin_and_random_patterns(instrument, span_exporter, llm, pattern_class, is_async):
    llm.default = picks([])
    first, second = agents(llm.base_url, "tech_agent", "research_agent")
    pattern = pattern_class(
        initial_agent=first,
        agents=[first, second],
        user_agent=ConversableAgent("user", human_input_mode="NEVER", llm_config=False),
        group_manager_args={"llm_config": llm_config(llm.base_url)},
    )
    if is_async:
        asyncio.run(a_initiate_group_chat(pattern=pattern, messages=QUESTION, max_rounds=4))
    else:
        initiate_group_chat(pattern=pattern, messages=QUESTION, max_rounds=4)
    spans = span_exporter.get_finished_spans()
    root = root_of(spans)
    selected_speakers_speak(spans, root)
    for selection in selections(spans, root)[1:]:
        assert selection.attributes["ag2.handoff.reason"].startswith("after_work:")
        assert by_name([s for s in spans if parent_of(s, spans) is selection], "chat gpt-4o-mini") == []
    assert "speaker_selection_agent" not in {s.attributes.get("gen_ai.agent.name") for s in spans}


def test_default_pattern_with_handoffs_to_terminate(instrument, span_exporter, llm):
    llm.default = picks([])
    first, second = agents(llm.base_url, "tech_agent", "research_agent")
    first.handoffs.set_after_work(AgentTarget(second))
    second.handoffs.set_after_work(TerminateTarget())
    pattern = DefaultPattern(initial_agent=first, agents=[first, second])
    initiate_group_chat(pattern=pattern, messages=QUESTION, max_rounds=10)
    spans = span_exporter.get_finished_spans()
    root = root_of(spans)
    assert [s.attributes["gen_ai.agent.name"] for s in turns(spans, root)] == ["tech_agent", "research_agent"]
    handoffs = [
        (
            s.attributes["ag2.handoff.source"],
            s.attributes["ag2.handoff.target"],
            s.attributes["ag2.handoff.reason"],
        )
        for s in selections(spans, root)
    ]
    assert handoffs[1:] == [
        ("tech_agent", "research_agent", "after_work:AgentTarget"),
        ("research_agent", "terminate", "after_work:TerminateTarget"),
    ]
    assert selections(spans, root)[-1].attributes["ag2.speaker_selection.selected"] == "terminate"
    assert root.attributes["ag2.conversation.termination_reason"] == "No next speaker selected"
    assert root.status.status_code is StatusCode.UNSET


@pytest.mark.parametrize("method", ["round_robin", "random", "manual", "auto", "callable"])
def test_classic_group_chat_every_selection_method(instrument, span_exporter, llm, monkeypatch, method):
    llm.default = picks(["research_agent", "tech_agent"])
    tech, research = agents(llm.base_url, "tech_agent", "research_agent")
    monkeypatch.setattr(builtins, "input", lambda prompt="": "2")  # manual selection: the second agent

    manager = two_agent_group_chat(tech, research, method, llm.base_url)
    user = ConversableAgent("user", human_input_mode="NEVER", llm_config=False)
    user.initiate_chat(manager, message=QUESTION)
    spans = span_exporter.get_finished_spans()
    root = root_of(spans)
    expected_method = "alternate" if method == "callable" else method
    assert {s.attributes["ag2.speaker_selection.method"] for s in selections(spans, root)} == {expected_method}
    selected_speakers_speak(spans, root)
    if method == "auto":
        llm_selections_show_the_selector(spans, root)


def test_direct_run_chat_and_manager_built_before_instrument(tracer_provider, span_exporter, llm):
    from opentelemetry_instrumentation_ag2 import AG2Instrumentor

    llm.default = picks([])
    tech, research = agents(llm.base_url, "tech_agent", "research_agent")
    groupchat = GroupChat([tech, research], messages=[], max_round=3, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False)
    reply_functions = [entry["reply_func"] for entry in manager._reply_func_list]
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        manager.run_chat(
            messages=[{"role": "user", "content": QUESTION, "name": "user"}], sender=tech, config=groupchat
        )
        direct = span_exporter.get_finished_spans()
        span_exporter.clear()
        groupchat.reset()
        asyncio.run(
            ConversableAgent("user", human_input_mode="NEVER", llm_config=False).a_initiate_chat(
                manager, message=QUESTION
            )
        )
        started = span_exporter.get_finished_spans()
    finally:
        instrumentor.uninstrument()
    root_of(direct)
    root_of(started)
    assert all(
        a is b for a, b in zip((e["reply_func"] for e in manager._reply_func_list), reply_functions, strict=False)
    )


def test_pattern_with_remote_agents(instrument, span_exporter, llm):
    llm.default = picks(["tech_agent"])
    tech_server_agent = ConversableAgent("tech_agent", llm_config=llm_config(llm.base_url), human_input_mode="NEVER")
    with serve_agent(tech_server_agent) as url:
        (triage,) = agents(llm.base_url, "triage_agent")
        remote = A2aRemoteAgent(url, name="tech_agent")
        pattern = AutoPattern(
            initial_agent=triage,
            agents=[triage, remote],
            user_agent=ConversableAgent("user", human_input_mode="NEVER", llm_config=False),
            group_manager_args={"llm_config": llm_config(llm.base_url)},
        )
        asyncio.run(a_initiate_group_chat(pattern=pattern, messages=QUESTION, max_rounds=3))
        spans = span_exporter.wait_for(lambda spans: len(by_name(spans, "a2a-execution")) >= 2)
    root = next(s for s in spans if s.parent is None)
    assert root.name == "conversation chat_manager"
    (call,) = [s for s in by_name(spans, "invoke_agent tech_agent") if s.kind is SpanKind.CLIENT]
    assert parent_of(call, spans) is root
    assert call.attributes["server.address"] == url
    execution = next(s for s in by_name(spans, "a2a-execution") if s.attributes["http.request.method"] == "POST")
    assert parent_of(execution, spans) is call
    served = [s for s in spans if parent_of(s, spans) is execution]
    assert [s.name for s in served] == ["conversation tech_agent"]
