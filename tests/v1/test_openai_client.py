"""Through AG2's real OpenAI client (``OpenAIConfig`` with a ``base_url``) against a scripted local server."""

from __future__ import annotations

import pytest
from ag2 import Agent
from ag2.config import OpenAIConfig
from openai import DefaultAsyncHttpxClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.support.fixtures import InstrumentAG2
from tests.v1.helpers import REPORTS_RESPONSE_ID, by_name, is_child
from tests.v1.openai_server import ScriptedOpenAI, serve

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("streaming", [False, True], ids=["completion", "streaming"])
async def test_openai_client_calls_are_chat_spans(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter, streaming: bool
) -> None:
    model = ScriptedOpenAI("Hello there, traveller.", "Goodbye now.")
    instrument()
    http_client = DefaultAsyncHttpxClient()  # closed by the test: AG2 never closes its OpenAI client
    with serve(model.app) as base_url:
        config = OpenAIConfig(
            model="gpt-4o-mini",
            api_key="test",
            base_url=base_url,
            streaming=streaming,
            temperature=0.2,
            max_retries=0,
            http_client=http_client,
        )
        agent = Agent("greeter", "Greet people.", config=config)
        try:
            reply = await agent.ask("Hi")
            second = await reply.ask("Bye")
        finally:
            await http_client.aclose()

    assert (reply.body, second.body) == ("Hello there, traveller.", "Goodbye now.")
    assert [request.get("stream", False) for request in model.requests] == [streaming, streaming]
    spans = span_exporter.get_finished_spans()
    turns = by_name(spans, "invoke_agent greeter")
    chats = by_name(spans, "chat gpt-4o-mini")
    assert len(turns) == len(chats) == 2
    port = int(base_url.rsplit(":", 1)[1].split("/")[0])
    for number, (turn, chat) in enumerate(zip(turns, chats, strict=True), start=1):
        assert is_child(chat, turn) and chat.kind is SpanKind.CLIENT
        expected = {
            "ag2.span.type": "llm",
            "gen_ai.operation.name": "chat",
            "gen_ai.agent.name": "greeter",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.request.temperature": 0.2,
            "server.address": "127.0.0.1",
            "server.port": port,
            "gen_ai.response.model": "gpt-scripted-2026",
            "gen_ai.usage.input_tokens": 20 + number,
            "gen_ai.usage.output_tokens": 4,
            "gen_ai.response.finish_reasons": ("stop",),
            "gen_ai.conversation.id": str(reply.context.stream.id),
        }
        if REPORTS_RESPONSE_ID:
            expected["gen_ai.response.id"] = f"chatcmpl-{number}"
        assert dict(chat.attributes) == expected
        assert turn.attributes["gen_ai.usage.input_tokens"] == 20 + number


async def test_with_openai_v2_on_each_llm_call_has_one_span_and_the_turn_still_counts_its_tokens(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter, tracer_provider
) -> None:
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    openai_v2 = OpenAIInstrumentor()
    openai_v2.instrument(tracer_provider=tracer_provider)
    model = ScriptedOpenAI("Hello there.")
    instrument()
    http_client = DefaultAsyncHttpxClient()
    try:
        with serve(model.app) as base_url:
            config = OpenAIConfig(
                model="gpt-4o-mini", api_key="test", base_url=base_url, max_retries=0, http_client=http_client
            )
            await Agent("greeter", "Greet people.", config=config).ask("Hi")
    finally:
        await http_client.aclose()
        openai_v2.uninstrument()

    spans = span_exporter.get_finished_spans()
    (chat,) = by_name(spans, "chat gpt-4o-mini")  # one span for the call: openai-v2's
    (turn,) = by_name(spans, "invoke_agent greeter")
    assert chat.instrumentation_scope.name != "opentelemetry_instrumentation_ag2"
    assert is_child(chat, turn)
    assert turn.attributes["gen_ai.usage.input_tokens"] == chat.attributes["gen_ai.usage.input_tokens"]
    assert turn.attributes["gen_ai.usage.output_tokens"] == chat.attributes["gen_ai.usage.output_tokens"]


async def test_a_config_without_base_url_names_the_endpoint_the_openai_sdk_reaches(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = ScriptedOpenAI("Hello there, traveller.")
    instrument()
    http_client = DefaultAsyncHttpxClient()
    with serve(model.app) as base_url:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)  # as a user points the SDK elsewhere
        config = OpenAIConfig(model="gpt-4o-mini", api_key="test", max_retries=0, http_client=http_client)
        try:
            await Agent("greeter", "Greet people.", config=config).ask("Hi")
        finally:
            await http_client.aclose()

    (chat,) = by_name(span_exporter.get_finished_spans(), "chat gpt-4o-mini")
    assert len(model.requests) == 1
    port = int(base_url.rsplit(":", 1)[1].split("/")[0])
    assert (chat.attributes["server.address"], chat.attributes["server.port"]) == ("127.0.0.1", port)


async def test_a_config_changed_between_turns_is_read_again(
    instrument: InstrumentAG2, span_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = ScriptedOpenAI("One."), ScriptedOpenAI("Two.")
    instrument()
    http_client = DefaultAsyncHttpxClient()
    config = OpenAIConfig(model="gpt-4o-mini", api_key="test", temperature=0.2, max_retries=0, http_client=http_client)
    agent = Agent("greeter", "Greet people.", config=config)
    try:
        with serve(first.app) as first_url, serve(second.app) as second_url:
            monkeypatch.setenv("OPENAI_BASE_URL", first_url)
            await agent.ask("Hi")
            config.temperature = 0.7  # the same config object, changed in place
            monkeypatch.setenv("OPENAI_BASE_URL", second_url)  # and its SDK pointed elsewhere
            await agent.ask("Hi again")
    finally:
        await http_client.aclose()

    assert (len(first.requests), len(second.requests)) == (1, 1)
    chats = by_name(span_exporter.get_finished_spans(), "chat gpt-4o-mini")
    ports = [int(url.rsplit(":", 1)[1].split("/")[0]) for url in (first_url, second_url)]
    assert [(chat.attributes["gen_ai.request.temperature"], chat.attributes["server.port"]) for chat in chats] == [
        (0.2, ports[0]),
        (0.7, ports[1]),
    ]
