"""The instrumentor's life cycle: entry point, suppression, double instrument, uninstrument, broken telemetry."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from importlib.metadata import entry_points

import pytest
from autogen import ConversableAgent
from autogen.agentchat import conversable_agent
from autogen.oai.client import OpenAIWrapper
from opentelemetry import context
from opentelemetry.instrumentation.utils import suppress_instrumentation

import opentelemetry_instrumentation_ag2
from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from opentelemetry_instrumentation_ag2.classic.llm import LLMSpans
from opentelemetry_instrumentation_ag2.patching import WhenImported

from .agents_app import QUESTION, build_agents

pytestmark = pytest.mark.timeout(60)

PATCHED = [
    (ConversableAgent, "initiate_chat"),
    (ConversableAgent, "a_initiate_chat"),
    (ConversableAgent, "generate_reply"),
    (ConversableAgent, "a_generate_reply"),
    (ConversableAgent, "execute_function"),
    (ConversableAgent, "get_human_input"),
    (OpenAIWrapper, "create"),
]


def chat_history(llm, run) -> list[dict]:
    """Run the seed's chat (fresh agents, same script) and return its history."""
    llm.push("Run it under gdb.", "Then read the backtrace.")
    user_proxy, tech_agent = build_agents(llm.base_url)
    result = run(user_proxy, tech_agent)
    return result.chat_history


def sync_chat(user_proxy, tech_agent):
    return user_proxy.initiate_chat(tech_agent, message=QUESTION, max_turns=2)


def async_chat(user_proxy, tech_agent):
    return asyncio.run(user_proxy.a_initiate_chat(tech_agent, message=QUESTION, max_turns=2))


def test_entry_point_loads_the_instrumentor():
    (entry_point,) = entry_points(group="opentelemetry_instrumentor", name="ag2")
    assert entry_point.load() is AG2Instrumentor


def test_instruments_extras_match_package():
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    from opentelemetry_instrumentation_ag2.package import _instruments, _instruments_any

    def of_extra(extra: str) -> set[tuple[str, str]]:
        declared = (Requirement(r) for r in requires("opentelemetry-instrumentation-ag2") or [])
        return {(r.name, str(r.specifier)) for r in declared if r.marker and r.marker.evaluate({"extra": extra})}

    def parsed(specs: tuple[str, ...]) -> set[tuple[str, str]]:
        return {(r.name, str(r.specifier)) for r in map(Requirement, specs)}

    assert of_extra("instruments-any") == parsed(_instruments_any)
    assert of_extra("instruments") == parsed(_instruments)


def test_uninstrument_restores_everything_and_ag2_behaves_the_same(tracer_provider, span_exporter, llm):
    originals = {(owner, name): owner.__dict__[name] for owner, name in PATCHED}
    baseline = chat_history(llm, sync_chat), chat_history(llm, async_chat)

    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    assert all(hasattr(owner.__dict__[name], "__wrapped__") for owner, name in PATCHED)
    traced = chat_history(llm, sync_chat), chat_history(llm, async_chat)
    assert span_exporter.get_finished_spans()
    instrumentor.uninstrument()

    span_exporter.clear()
    after = chat_history(llm, sync_chat), chat_history(llm, async_chat)
    assert span_exporter.get_finished_spans() == ()
    assert baseline == traced == after
    assert {(owner, name): owner.__dict__[name] for owner, name in PATCHED} == originals
    assert conversable_agent.threading.Thread.__module__ == "threading"


def test_instrument_twice_is_harmless(tracer_provider, span_exporter, llm):
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        chat_history(llm, sync_chat)
    finally:
        instrumentor.uninstrument()
    names = [span.name for span in span_exporter.get_finished_spans()]
    assert names.count("conversation user_proxy") == 1
    assert names.count("chat gpt-4o-mini") == 2


def test_a_new_handle_uninstruments_what_another_instrumented(tracer_provider, span_exporter, llm):
    AG2Instrumentor().instrument(tracer_provider=tracer_provider)
    AG2Instrumentor().uninstrument()
    assert not hasattr(ConversableAgent.__dict__["generate_reply"], "__wrapped__")
    chat_history(llm, sync_chat)
    assert span_exporter.get_finished_spans() == ()


def test_suppress_instrumentation(instrument, span_exporter, llm):
    with suppress_instrumentation():
        history = chat_history(llm, sync_chat)
    assert len(history) == 4
    assert span_exporter.get_finished_spans() == ()


def test_suppression_by_the_plain_key_older_instrumentations_set(instrument, span_exporter, llm):
    token = context.attach(context.set_value("suppress_instrumentation", True))
    try:
        history = chat_history(llm, sync_chat)
    finally:
        context.detach(token)
    assert len(history) == 4
    assert span_exporter.get_finished_spans() == ()


def test_broken_telemetry_never_reaches_the_app(tracer_provider, span_exporter, llm, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("telemetry bug")

    baseline = chat_history(llm, sync_chat)
    monkeypatch.setattr(LLMSpans, "response", broken)
    monkeypatch.setattr(LLMSpans, "chat", broken)
    instrumentor = AG2Instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        with caplog.at_level(logging.DEBUG, logger="opentelemetry_instrumentation_ag2"):
            history = chat_history(llm, sync_chat)
    finally:
        instrumentor.uninstrument()
    assert history == baseline
    names = [span.name for span in span_exporter.get_finished_spans()]
    assert "conversation user_proxy" in names
    assert "chat gpt-4o-mini" not in names
    assert "failed to start a span" in caplog.text


def test_unsupported_ag2_logs_and_does_nothing(tracer_provider, monkeypatch, caplog):
    monkeypatch.setattr(opentelemetry_instrumentation_ag2, "_instruments_any", ("ag2 >= 99", "autogen >= 99"))
    instrumentor = AG2Instrumentor()
    with caplog.at_level(logging.ERROR):
        instrumentor.instrument(tracer_provider=tracer_provider)
    assert not instrumentor.is_instrumented_by_opentelemetry
    assert "ag2 >= 99" in caplog.text
    assert not hasattr(ConversableAgent.__dict__["generate_reply"], "__wrapped__")


A2A_ON_IMPORT = """
import json, sys
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry_instrumentation_ag2 import AG2Instrumentor

def a2a_loaded():
    top = ("a2a", "starlette", "uvicorn")
    return sorted(m for m in sys.modules if m.split(".")[0] in top or m.startswith("autogen.a2a"))

def times_wrapped(function):
    count = 0
    while hasattr(function, "__wrapped__"):
        function, count = function.__wrapped__, count + 1
    return count

instrumentor = AG2Instrumentor()
for _ in range(3):
    instrumentor.instrument(tracer_provider=TracerProvider())
    instrumentor.uninstrument()
if sys.argv[1] == "instrumented":
    instrumentor.instrument(tracer_provider=TracerProvider())
loaded_by_us = a2a_loaded()

import httpx
from autogen.a2a import A2aAgentServer, A2aRemoteAgent, AutogenAgentExecutor

def wrapped():
    targets = (A2aRemoteAgent._ask_streaming, A2aAgentServer.build, AutogenAgentExecutor.execute)
    targets += (httpx.AsyncClient.send,)
    return [times_wrapped(target) for target in targets]

wrapped_on_import = wrapped()
instrumentor.uninstrument()
wrapped_after = wrapped()
print(json.dumps([loaded_by_us, wrapped_on_import, wrapped_after]))
"""


@pytest.mark.parametrize("state", ["instrumented", "uninstrumented"])
def test_a2a_is_instrumented_when_the_application_imports_it(state):
    """``instrument()`` loads none of a2a-sdk, starlette or uvicorn (an application without A2A never pays for
    them); ``autogen.a2a`` is traced from the moment the application imports it, once however many
    instrument/uninstrument cycles came before, and not at all when uninstrumented by then."""
    done = subprocess.run(
        [sys.executable, "-c", A2A_ON_IMPORT, state], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded_by_us, wrapped_on_import, wrapped_after = json.loads(done.stdout.splitlines()[-1])
    assert loaded_by_us == []
    assert wrapped_on_import == ([1, 1, 1, 1] if state == "instrumented" else [0, 0, 0, 0])
    assert wrapped_after == [0, 0, 0, 0]


def test_a_failure_patching_on_import_never_fails_the_import(tmp_path, monkeypatch, caplog):
    (tmp_path / "late_module.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    calls = []

    def broken() -> None:
        calls.append("armed last")
        raise RuntimeError("telemetry bug")

    watch = WhenImported("late_module")
    watch.arm(lambda: calls.append("armed first"))
    watch.arm(broken)
    with caplog.at_level(logging.WARNING, logger="opentelemetry_instrumentation_ag2"):
        import late_module
    monkeypatch.delitem(sys.modules, "late_module")
    assert late_module.VALUE == 42
    assert calls == ["armed last"]
    assert "failed to instrument late_module" in caplog.text
