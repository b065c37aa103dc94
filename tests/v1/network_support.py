"""Helpers for the ``ag2.network`` tests: participants' scripted models, a hub in this process, waiting for
spans, and the span-tree checks every run must pass."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from ag2 import Agent
from ag2.knowledge import MemoryKnowledgeStore
from ag2.network import Hub, HubClient, LocalLink
from opentelemetry._logs import get_logger
from opentelemetry.metrics import get_meter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv.schemas import Schemas
from opentelemetry.trace import get_tracer

from opentelemetry_instrumentation_ag2.config import Settings
from opentelemetry_instrumentation_ag2.signals import Signals
from opentelemetry_instrumentation_ag2.spans import TracingSession
from opentelemetry_instrumentation_ag2.v1.network import network_patches
from opentelemetry_instrumentation_ag2.version import __version__
from tests.v1.helpers import OUR_SCOPE, is_child, one, patched
from tests.v1.network_models import TakeTurns

__all__ = [
    "TakeTurns",
    "assert_network_patched",
    "bare_telemetry",
    "bob_consulted",
    "check_one_causal_trace",
    "counts",
    "envelopes",
    "local_hub",
    "question_and_reply",
    "settled",
    "turns",
]

ENVELOPE = "network.envelope "
TURN = "invoke_agent "
ENVELOPE_ID = "ag2.network.envelope_id"
CAUSATION_ID = "ag2.network.causation_id"
SENDER_NAME = "ag2.network.sender_name"
MANIFEST_TYPE = "ag2.network.manifest_type"


def assert_network_patched() -> None:
    """Every one of ``network_patches`` is in place: ``instrument()`` applies them once ``ag2.network`` is imported."""
    patches = network_patches(bare_telemetry(TracerProvider()))
    assert len(patches) == 4, [patch.target for patch in patches]
    assert all(patched(patch.module, patch.target) for patch in patches), [patch.target for patch in patches]


def bare_telemetry(tracer_provider: TracerProvider) -> TracingSession:
    """A telemetry of our scope on this provider, with no-op metrics and events, that nothing has patched with."""
    tracer = get_tracer(OUR_SCOPE, __version__, tracer_provider, schema_url=Schemas.V1_37_0.value)
    return TracingSession(tracer, Signals(get_meter(OUR_SCOPE), get_logger(OUR_SCOPE)), Settings.from_env(None))


@asynccontextmanager
async def local_hub(**options: Any) -> AsyncIterator[tuple[Hub, HubClient]]:
    """A hub in memory with one in-process client connection; both closed at the end."""
    hub = await Hub.open(MemoryKnowledgeStore(), expectation_sweep_interval=0, **options)
    client = HubClient(LocalLink(hub))
    try:
        yield hub, client
    finally:
        await client.close()
        await hub.close()


async def settled(
    exporter: InMemorySpanExporter, done: Callable[[tuple[ReadableSpan, ...]], bool], timeout: float = 15.0
) -> tuple[ReadableSpan, ...]:
    """The finished spans once ``done`` says the run is over (checked as the event loop turns)."""
    deadline = time.monotonic() + timeout
    while True:
        spans = exporter.get_finished_spans()
        if done(spans):
            return spans
        assert time.monotonic() < deadline, f"run did not finish: {[s.name for s in spans]}"
        await asyncio.sleep(0.01)


def envelopes(spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    """The ``network.envelope`` spans, in start order."""
    return sorted((s for s in spans if s.name.startswith(ENVELOPE)), key=lambda s: s.start_time or 0)


def turns(spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    """The ``invoke_agent`` spans, in start order."""
    return sorted((s for s in spans if s.name.startswith(TURN)), key=lambda s: s.start_time or 0)


def counts(envelope_count: int, turn_count: int) -> Callable[[tuple[ReadableSpan, ...]], bool]:
    """A ``settled`` condition: this many envelopes and at least this many turns have ended."""
    return lambda spans: len(envelopes(spans)) >= envelope_count and len(turns(spans)) >= turn_count


def parent(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> ReadableSpan | None:
    """The span's parent among ``spans``."""
    if span.parent is None:
        return None
    return next((s for s in spans if s.context.span_id == span.parent.span_id), None)


def sender(envelope: ReadableSpan) -> str:
    return str((envelope.attributes or {}).get(SENDER_NAME))


async def bob_consulted(client: HubClient, question: str, reply: str, bob_client: HubClient | None = None) -> Any:
    """alice, on ``client``, asks bob (on ``bob_client`` if given) ``question`` over a consulting channel, and bob
    replies ``reply``: alice's registration and bob's reply as it reaches her."""
    alice = await client.register(Agent("alice", "You are alice.", config=TakeTurns()))
    bob = await (bob_client or client).register(Agent("bob", "You are bob.", config=TakeTurns(reply)))
    channel = await alice.open(type="consulting", target="bob")
    await channel.send(question)
    answer = await alice.wait_for_channel_event(
        channel_id=channel.channel_id, predicate=lambda e: e.sender_id == bob.agent_id, timeout=15
    )
    return alice, answer


def question_and_reply(spans: Sequence[ReadableSpan]) -> tuple[ReadableSpan, ReadableSpan, ReadableSpan]:
    """alice's question, bob's reply and bob's turn, in one causal trace: the turn and the reply beneath the
    question, the reply naming the question as its cause."""
    check_one_causal_trace(spans, "alice")
    question, reply = envelopes(spans)
    turn = one(spans, "invoke_agent bob")
    assert is_child(turn, question) and is_child(reply, question)
    assert (sender(reply), reply.attributes[CAUSATION_ID]) == ("bob", question.attributes[ENVELOPE_ID])
    return question, reply, turn


def check_one_causal_trace(spans: Sequence[ReadableSpan], first_sender: str) -> None:
    """One run, one trace, every span once, and each envelope and turn under what caused it.

    The run starts with ``first_sender``'s envelope (the root). A turn sits under the envelope delivered to its
    agent; an envelope posted back sits under the envelope its sender was handling, which is the one AG2
    names as its cause (``causation_id``).
    """
    assert len({s.context.trace_id for s in spans}) == 1, "one trace per run"
    assert len({s.context.span_id for s in spans}) == len(spans)
    posted, agent_turns = envelopes(spans), turns(spans)
    ids = [(s.attributes or {}).get(ENVELOPE_ID) for s in posted]
    assert len(ids) == len(set(ids)), "each envelope traced once"
    roots = [s for s in spans if s.parent is None]
    assert roots == [posted[0]] and sender(posted[0]) == first_sender
    for envelope in posted[1:]:
        cause = parent(envelope, spans)
        assert cause is not None and cause.name.startswith(ENVELOPE), envelope.name
        assert (envelope.attributes or {}).get(CAUSATION_ID) == (cause.attributes or {}).get(ENVELOPE_ID)
    for turn in agent_turns:
        cause = parent(turn, spans)
        assert cause is not None and cause.name.startswith(ENVELOPE), turn.name
        assert sender(cause) != turn.name.removeprefix(TURN), "a turn answers someone else's envelope"
    keys = [(t.name, t.parent.span_id if t.parent else None) for t in agent_turns]
    assert len(keys) == len(set(keys)), "each delivery handled by one turn"
    assert all(s.instrumentation_scope and s.instrumentation_scope.name == OUR_SCOPE for s in spans)
