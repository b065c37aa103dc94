"""Every model call of a 1.x agent is a ``chat`` span naming the config it really used (issue 30).

Checked against what really happened: the requests the scripted OpenAI-compatible server saw, and AG2's own
usage records (``UsageEvent``) of each turn.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from ag2 import Agent, KnowledgeConfig
from ag2.compact import CompactTrigger, SummarizeCompact
from ag2.config import OpenAIConfig
from ag2.events import UsageEvent
from ag2.knowledge import MemoryKnowledgeStore
from ag2.stream import MemoryStream
from ag2.usage import UsageReport
from openai import DefaultAsyncHttpxClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.support.fixtures import Traced
from tests.v1.helpers import is_child
from tests.v1.openai_server import HOST, ScriptedOpenAI, serve

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def http_client() -> AsyncIterator[Any]:
    client = DefaultAsyncHttpxClient()  # AG2 never closes the OpenAI client's HTTP client
    yield client
    await client.aclose()


def openai_config(model: str, base_url: str, http_client: Any) -> OpenAIConfig:
    return OpenAIConfig(model=model, api_key="test", base_url=base_url, max_retries=0, http_client=http_client)


def spans_under(spans: tuple[ReadableSpan, ...], root: ReadableSpan) -> list[ReadableSpan]:
    """Every span beneath ``root`` (its whole subtree, in one trace)."""
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [span for span in spans if is_child(span, parent)]
        found += children
        frontier += children
    return found


def chats(spans: list[ReadableSpan] | tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    return [span for span in spans if span.attributes.get("gen_ai.operation.name") == "chat"]


async def test_compaction_calls_are_chat_spans_and_each_turn_counts_what_ag2_counts(
    instrumented: Traced, span_exporter: InMemorySpanExporter, http_client: Any
) -> None:
    server = ScriptedOpenAI(*(f"reply {n}" for n in range(1, 10)))
    with serve(server.app) as base_url:
        summarizer = openai_config("gpt-4o-summarizer", base_url, http_client)
        knowledge = KnowledgeConfig(
            store=MemoryKnowledgeStore(),
            compact=SummarizeCompact(2, summarizer),
            compact_trigger=CompactTrigger(max_events=4),
        )
        agent = Agent(
            "keeper", "Be brief.", config=openai_config("gpt-4o-mini", base_url, http_client), knowledge=knowledge
        )
        stream = MemoryStream()
        recorded: list[UsageEvent] = []

        async def record(event: UsageEvent) -> None:
            recorded.append(event)

        stream.where(UsageEvent).subscribe(record)
        per_turn: list[UsageReport] = []
        reply = await agent.ask("one", stream=stream)
        per_turn.append(UsageReport.from_events(recorded))
        for text in ("two", "three", "four"):
            before = len(recorded)
            reply = await reply.ask(text)
            per_turn.append(UsageReport.from_events(recorded[before:]))

    spans = span_exporter.get_finished_spans()
    turns = [span for span in spans if span.name == "invoke_agent keeper"]
    assert len(turns) == 4
    assert len(server.requests) == 6  # four turns' calls, two compactions
    compaction_requests = [r for r in server.requests if r["model"] == "gpt-4o-summarizer"]
    assert len(compaction_requests) == 2

    every_chat = chats(spans)
    assert len(every_chat) == len(server.requests)
    served_tokens = sum(20 + n for n in range(1, 7)), 4 * 6  # what the server reported, request by request
    assert (
        sum(c.attributes["gen_ai.usage.input_tokens"] for c in every_chat),
        sum(c.attributes["gen_ai.usage.output_tokens"] for c in every_chat),
    ) == served_tokens
    for turn, report in zip(turns, per_turn, strict=True):
        assert turn.attributes["gen_ai.usage.input_tokens"] == report.total.prompt_tokens
        assert turn.attributes["gen_ai.usage.output_tokens"] == report.total.completion_tokens
        assert len(chats(spans_under(spans, turn))) == len(report.records)

    compacting = [span for span in spans if span.name == "compaction keeper"]
    assert len(compacting) == 2
    for operation in compacting:
        assert operation.attributes["ag2.span.type"] == "compaction"
        assert operation.attributes["ag2.strategy"] == "SummarizeCompact"
        assert any(is_child(operation, turn) for turn in turns)
        (call,) = [span for span in spans if is_child(span, operation)]
        assert call.name == "chat gpt-4o-summarizer" and call.kind is SpanKind.CLIENT
        assert call.attributes["gen_ai.request.model"] == "gpt-4o-summarizer"
        assert call.attributes["gen_ai.response.model"] == server.model
        assert call.attributes["gen_ai.provider.name"] == "openai"
        assert call.attributes["server.address"] == HOST
        assert call.attributes["ag2.usage.kind"] == "compaction"
        assert call.start_time >= operation.start_time and call.end_time <= operation.end_time


async def test_a_continuation_with_another_config_names_the_model_it_calls(
    instrumented: Traced, span_exporter: InMemorySpanExporter, http_client: Any
) -> None:
    first, second = ScriptedOpenAI("hi", "still here"), ScriptedOpenAI("more", "and more")
    with serve(first.app) as first_url, serve(second.app) as second_url:
        agent = Agent("switcher", config=openai_config("gpt-4o-mini", first_url, http_client))
        reply = await agent.ask("hi")
        other = openai_config("gpt-4o", second_url, http_client)
        switched = await reply.ask("more", config=other)
        again = await switched.ask("and again")  # keeps the client the switch made
        async with again.run("as a run", config=openai_config("gpt-4o-mini", first_url, http_client)) as run:
            await run.result()

    assert [r["model"] for r in first.requests] == ["gpt-4o-mini", "gpt-4o-mini"]
    assert [r["model"] for r in second.requests] == ["gpt-4o", "gpt-4o"]
    spans = span_exporter.get_finished_spans()
    turns = [span for span in spans if span.name == "invoke_agent switcher"]
    expected = [("gpt-4o-mini", first_url), ("gpt-4o", second_url), ("gpt-4o", second_url), ("gpt-4o-mini", first_url)]
    assert len(turns) == len(expected)
    for turn, (model, url) in zip(turns, expected, strict=True):
        (chat,) = chats(spans_under(spans, turn))
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        assert chat.name == f"chat {model}"
        assert chat.attributes["gen_ai.request.model"] == turn.attributes["gen_ai.request.model"] == model
        assert (chat.attributes["server.address"], chat.attributes["server.port"]) == (HOST, port)
