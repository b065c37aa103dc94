"""The classic adapter's pure helpers: request parameters, endpoints, handoff reasons, the response-cache watch."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from opentelemetry_instrumentation_ag2.classic.group_chat import handoff_reason
from opentelemetry_instrumentation_ag2.classic.models import (
    DEFAULT_PROVIDER,
    call_parameters,
    output_type,
    request_parameters,
    server_of,
)
from opentelemetry_instrumentation_ag2.classic.response_cache import CacheWatch, watch_cache
from opentelemetry_instrumentation_ag2.model_request import provider_name


def test_request_parameters_as_the_conventions_name_them():
    found = request_parameters(
        {"model": "m", "temperature": 0.2, "stop": "END", "n": 1, "seed": 7, "response_format": {"type": "text"}}.get
    )
    assert found == {
        "gen_ai.request.model": "m",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.stop_sequences": ["END"],
        "gen_ai.request.seed": 7,
        "gen_ai.output.type": "text",
    }
    assert request_parameters({"n": 3, "max_tokens": 10}.get) == {
        "gen_ai.request.choice.count": 3,
        "gen_ai.request.max_tokens": 10,
    }


def test_call_parameters_look_only_when_a_call_passes_some():
    assert call_parameters({"messages": [], "agent": object()}) == {}
    assert call_parameters({"temperature": 0.5}) == {"gen_ai.request.temperature": 0.5}


@pytest.mark.parametrize(
    ("response_format", "kind"), [({"type": "json_object"}, "json"), ("text", "text"), (dict, "json")]
)
def test_output_type(response_format, kind):
    assert output_type(response_format) == kind


@pytest.mark.parametrize(
    ("api_type", "name"), [(None, "openai"), ("openai", "openai"), ("google", "gcp.gemini"), ("ollama", "ollama")]
)
def test_provider_names(api_type, name):
    assert provider_name(api_type, DEFAULT_PROVIDER) == name


@pytest.mark.parametrize(
    ("base_url", "server"),
    [
        (None, (None, None)),
        ("http://127.0.0.1:8000/v1", ("127.0.0.1", 8000)),
        ("https://api.example.com/v1", ("api.example.com", 443)),
    ],
)
def test_server_of_a_base_url(base_url, server):
    assert server_of(base_url) == server


def agent(name: str, **state) -> SimpleNamespace:
    handoffs = SimpleNamespace(after_works=state.pop("after_works", []))
    return SimpleNamespace(name=name, handoffs=handoffs, **state)


def group(messages: list[dict]) -> SimpleNamespace:
    return SimpleNamespace(messages=messages)


def executor(target=None) -> SimpleNamespace:
    return SimpleNamespace(has_next_target=lambda: target is not None, get_next_target=lambda: target)


class AgentTarget:
    """Stands for AG2's transition targets: only the type's name is read."""


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"use_initial_agent": True}, "initial_agent"),
        (
            {"last_speaker": agent("a", _group_manager=SimpleNamespace(_next_target_force=AgentTarget()))},
            "forced:AgentTarget",
        ),
        ({"last_speaker": agent("a"), "groupchat": group([{"tool_calls": []}])}, "tool_call"),
        (
            {"last_speaker": agent("a"), "groupchat": group([{}]), "tool_executor": executor(AgentTarget())},
            "tool_target:AgentTarget",
        ),
        ({"last_speaker": agent("a"), "groupchat": group([{"role": "tool"}])}, "after_tool"),
        (
            {"last_speaker": agent("a", after_works=[SimpleNamespace(target=AgentTarget())]), "groupchat": group([])},
            "after_work:AgentTarget",
        ),
        (
            {"last_speaker": agent("a"), "groupchat": group([]), "group_after_work": AgentTarget()},
            "group_after_work:AgentTarget",
        ),
    ],
    ids=["initial", "forced", "tool-call", "tool-target", "after-tool", "after-work", "group-after-work"],
)
def test_handoff_reasons(kwargs, reason):
    assert handoff_reason(kwargs) == reason


def test_the_user_agent_handing_back_is_after_user():
    user = agent("user")
    assert handoff_reason({"last_speaker": user, "user_agent": user, "groupchat": group([])}) == "after_user"


class Wrapper:
    """Stands for ``OpenAIWrapper``: its usage summaries, replaced entry by entry as AG2 counts."""

    def __init__(self, cache_seed=None) -> None:
        self.total_usage_summary: dict = {}
        self.actual_usage_summary: dict = {}
        self._config_list = [{"model": "m", "cache_seed": cache_seed}]

    def count(self, cached: bool) -> None:
        self.total_usage_summary = {**self.total_usage_summary, "m": {"cost": 1}}
        if not cached:
            self.actual_usage_summary = {**self.actual_usage_summary, "m": {"cost": 1}}


def test_the_cache_watch_tells_a_cached_answer_from_the_models():
    wrapper = Wrapper()
    assert watch_cache(wrapper, {}) is None  # no cache anywhere: nothing to watch
    watch = watch_cache(wrapper, {"cache_seed": 42})
    assert isinstance(watch, CacheWatch)
    assert watch.answered_from_cache() is None  # nothing counted yet
    wrapper.count(cached=True)
    assert watch.answered_from_cache() is True
    second = CacheWatch(wrapper)
    wrapper.count(cached=False)
    assert second.answered_from_cache() is False
