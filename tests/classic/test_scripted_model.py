"""Tests for the scripted OpenAI-compatible server in ``tests/support/scripted_model.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import autogen
import httpx
import openai
import pytest

from tests.support.scripted_model import ScriptedLLM

SCRIPT = Path(__file__).resolve().parents[2] / "tests" / "support" / "scripted_model.py"
MODEL = "gpt-4o-mini"


def _wrapper(llm: ScriptedLLM, **extra: Any) -> autogen.OpenAIWrapper:
    """An ``OpenAIWrapper`` pointed at ``llm`` (no disk cache)."""
    entry = {"api_type": "openai", "model": MODEL, "api_key": "test", "base_url": llm.base_url, **extra}
    return autogen.OpenAIWrapper(config_list=[entry], cache_seed=None)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain httpx client for raw requests."""
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.mark.timeout(60)
def test_ag2_round_trip_through_agents() -> None:
    with ScriptedLLM(["hello from the script"]) as llm:
        assistant = autogen.ConversableAgent("assistant", llm_config=llm.llm_config())
        user_proxy = autogen.ConversableAgent(
            "user_proxy", human_input_mode="NEVER", llm_config=False, max_consecutive_auto_reply=1
        )
        result = user_proxy.initiate_chat(assistant, message="hi", max_turns=1)

        contents = [m.get("content") for m in result.chat_history]
        assert contents == ["hi", "hello from the script"]
        requests = llm.requests
        assert len(requests) == 1
        assert requests[0]["model"] == MODEL
        assert requests[0]["stream"] is False  # AG2 always sends an explicit "stream": false
        assert requests[0]["messages"][0]["role"] == "system"
        assert requests[0]["messages"][-1] == {"role": "user", "content": "hi", "name": "user_proxy"}
        assert llm.request_headers[0]["authorization"] == "Bearer test"


@pytest.mark.timeout(60)
def test_tool_calls_reply_through_openai_wrapper() -> None:
    script = [
        {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "noop", "arguments": "{}"}]},
        {"tool_calls": [{"name": "get_time", "arguments": {"tz": "UTC"}, "id": "call_custom"}]},
    ]
    with ScriptedLLM(script) as llm:
        client = _wrapper(llm)
        response = client.create(messages=[{"role": "user", "content": "weather?"}])

        choice = response.choices[0]
        assert choice.finish_reason == "tool_calls"
        calls = choice.message.tool_calls
        assert [(c.id, c.type, c.function.name) for c in calls] == [
            ("call_1", "function", "get_weather"),
            ("call_2", "function", "noop"),
        ]
        assert json.loads(calls[0].function.arguments) == {"city": "Paris"}
        assert calls[1].function.arguments == "{}"
        # AG2 hands tool-call responses back as the message object, not as text.
        (extracted,) = client.extract_text_or_completion_object(response)
        assert extracted.tool_calls[0].function.name == "get_weather"

        second = client.create(messages=[{"role": "user", "content": "time?"}])
        assert second.choices[0].message.tool_calls[0].id == "call_custom"
        assert second.id == "chatcmpl-2"
        assert second.model == MODEL
        assert second.usage.prompt_tokens == 10
        assert second.usage.completion_tokens == 5
        assert second.usage.total_tokens == 15


@pytest.mark.timeout(60)
def test_500_reply_raises_openai_internal_server_error() -> None:
    with ScriptedLLM([{"status": 500, "body": {"message": "boom"}}]) as llm:
        # The openai SDK retries 5xx (default max_retries=2) and AG2 passes `max_retries` through to openai.OpenAI;
        # without max_retries=0 the retry would consume the next scripted reply (the default "TERMINATE") and succeed.
        client = _wrapper(llm, max_retries=0)
        with pytest.raises(openai.InternalServerError) as excinfo:
            client.create(messages=[{"role": "user", "content": "hi"}])

        assert isinstance(excinfo.value, openai.APIError)
        assert excinfo.value.status_code == 500
        assert excinfo.value.body["message"] == "boom"
        assert excinfo.value.body["type"] == "server_error"
        assert len(llm.requests) == 1


@pytest.mark.timeout(60)
def test_500_is_retried_by_default_and_consumes_the_script() -> None:
    with ScriptedLLM([{"status": 500}, "recovered"]) as llm:
        response = _wrapper(llm).create(messages=[{"role": "user", "content": "hi"}])

        assert response.choices[0].message.content == "recovered"
        assert len(llm.requests) == 2
        assert [h["x-stainless-retry-count"] for h in llm.request_headers] == ["0", "1"]


@pytest.mark.timeout(60)
def test_llm_config_helper_and_push_and_default(http: httpx.Client) -> None:
    with ScriptedLLM(["one"], default="fallback", completion_tokens=7) as llm:
        assert llm.base_url == f"http://127.0.0.1:{llm.port}/v1"
        entry = llm.llm_config(model="m-1", max_retries=0).config_list[0]
        assert (entry.api_type, entry.model, str(entry.base_url)) == ("openai", "m-1", llm.base_url)

        llm.push("two", lambda body: f"echo {body['messages'][-1]['content']}")
        body = {"model": "m-2", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]}
        texts = []
        for path in ("/v1/chat/completions", "/chat/completions", "/v1/chat/completions", "/v1/chat/completions"):
            resp = http.post(f"http://127.0.0.1:{llm.port}{path}", json=body)
            assert resp.status_code == 200
            data = resp.json()
            texts.append(data["choices"][0]["message"]["content"])
        assert texts == ["one", "two", "echo u", "fallback"]
        assert data["object"] == "chat.completion"
        assert data["model"] == "m-2"
        assert data["choices"][0]["finish_reason"] == "stop"
        assert data["choices"][0]["logprobs"] is None
        assert data["usage"] == {"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27}
        assert len(llm.requests) == 4
        assert llm.pending == 0


@pytest.mark.timeout(60)
def test_stream_and_bad_callable_are_errors(http: httpx.Client) -> None:
    def broken(body: dict[str, Any]) -> Any:
        raise RuntimeError("script bug")

    with ScriptedLLM([broken, {"status": 429, "headers": {"retry-after": "0"}}]) as llm:
        url = f"{llm.base_url}/chat/completions"
        body = {"model": MODEL, "messages": [{"role": "user", "content": "x"}]}

        streamed = http.post(url, json={**body, "stream": True})
        assert streamed.status_code == 400
        assert "streaming" in streamed.json()["error"]["message"]
        assert llm.pending == 2  # a rejected stream request does not consume the script

        bad = http.post(url, json=body)
        assert bad.status_code == 500
        assert "script bug" in bad.json()["error"]["message"]

        limited = http.post(url, json=body)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "0"
        assert limited.json()["error"]["type"] == "rate_limit_error"

    with pytest.raises(ValueError, match="unsupported reply type"):
        ScriptedLLM([42])  # type: ignore[list-item]


@pytest.mark.timeout(60)
def test_script_mode_prints_ready_and_serves(tmp_path: Path, http: httpx.Client) -> None:
    script_file = tmp_path / "script.json"
    script_file.write_text(json.dumps([{"tool_calls": [{"name": "lookup", "arguments": {"q": 1}}]}]))
    stderr_file = tmp_path / "stderr.txt"
    argv = [sys.executable, str(SCRIPT), "--port", "0", "--script", str(script_file)]
    argv += ["--reply", "from cli", "--default", "DONE"]
    with stderr_file.open("w") as stderr:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:"), (line, stderr_file.read_text())
        base_url = line.split(" ", 1)[1]
        assert base_url.endswith("/v1")
        assert int(base_url.rsplit(":", 1)[1].removesuffix("/v1")) > 0

        body = {"model": "cli-model", "messages": [{"role": "user", "content": "hi"}]}
        replies = [http.post(f"{base_url}/chat/completions", json=body).json() for _ in range(3)]
        first = replies[0]["choices"][0]
        assert first["finish_reason"] == "tool_calls"
        assert first["message"]["tool_calls"][0]["function"] == {"name": "lookup", "arguments": '{"q": 1}'}
        assert [r["choices"][0]["message"]["content"] for r in replies[1:]] == ["from cli", "DONE"]
        assert replies[0]["model"] == "cli-model"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr_file.read_text()
