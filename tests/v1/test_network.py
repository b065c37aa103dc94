"""``ag2.network`` runs in one process: each channel kind is one trace of envelopes and the turns they cause."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ag2 import Agent
from ag2.network import EV_TEXT, TransitionGraph
from opentelemetry.sdk.trace import ReadableSpan, Tracer, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry_instrumentation_ag2 import AG2Instrumentor
from opentelemetry_instrumentation_ag2.patching import original_function
from opentelemetry_instrumentation_ag2.v1.network import network_patches
from opentelemetry_instrumentation_ag2.v1.network_envelopes import EnvelopeSpans, fits
from tests.support.hostile import UnprintableError
from tests.v1.helpers import AG2_SCOPE, OUR_SCOPE, is_child, one, scope_of
from tests.v1.network_support import (
    ENVELOPE_ID,
    MANIFEST_TYPE,
    TakeTurns,
    bare_telemetry,
    bob_consulted,
    check_one_causal_trace,
    counts,
    envelopes,
    local_hub,
    question_and_reply,
    sender,
    settled,
    turns,
)

pytestmark = pytest.mark.timeout(60)


def agent(name: str, *turns_: object) -> Agent:
    return Agent(name, f"You are {name}.", config=TakeTurns(*turns_))


def names_in_order(spans: list[ReadableSpan]) -> list[str]:
    return [span.name for span in spans]


async def test_consulting_question_and_answer_are_one_trace(network_instrumented, span_exporter: InMemorySpanExporter):
    async with local_hub() as (_, client):
        alice, answer = await bob_consulted(client, "What is the answer?", "Forty-two.")
        spans = await settled(span_exporter, counts(2, 1))

    assert answer.event_data == {"text": "Forty-two."}
    assert sorted(s.name for s in spans) == [
        "chat gpt-test",
        "invoke_agent bob",
        "network.envelope ag2.msg.text",
        "network.envelope ag2.msg.text",
    ]
    question, reply, turn = question_and_reply(spans)
    chat = one(spans, "chat gpt-test")
    assert (question.parent, question.kind, scope_of(question)) == (None, SpanKind.PRODUCER, OUR_SCOPE)
    assert question.attributes[MANIFEST_TYPE] == "consulting"
    assert question.attributes["ag2.span.type"] == "envelope"
    assert question.attributes["ag2.network.event_type"] == EV_TEXT
    assert question.attributes["ag2.network.sender_id"] == alice.agent_id
    assert is_child(chat, turn)
    assert turn.attributes["gen_ai.agent.name"] == "bob"
    assert answer.trace_id.split("-")[1] == format(reply.context.trace_id, "032x")


async def test_conversation_turns_answer_each_other_in_one_trace(
    network_instrumented, span_exporter: InMemorySpanExporter
):
    async with local_hub() as (_, client):
        alice = await client.register(agent("alice", "Fine, and you?", "Bye."))
        await client.register(agent("bob", "Hello, how are you?", "Good."))
        channel = await alice.open(type="conversation", target="bob")
        await channel.send("Hi Bob.")
        spans = await settled(span_exporter, counts(5, 5))  # bob's third turn has nothing to say

    check_one_causal_trace(spans, "alice")
    posted, agent_turns = envelopes(spans), turns(spans)
    assert [sender(e) for e in posted] == ["alice", "bob", "alice", "bob", "alice"]
    assert names_in_order(agent_turns)[:5] == [f"invoke_agent {n}" for n in ("bob", "alice", "bob", "alice", "bob")]
    for index, turn in enumerate(agent_turns[:5]):  # each turn answers the envelope just before it
        assert is_child(turn, posted[index])
    for index, envelope in enumerate(posted[1:]):  # each reply is caused by the envelope its sender answered
        assert is_child(envelope, posted[index])
    assert {e.attributes[MANIFEST_TYPE] for e in posted} == {"conversation"}


async def test_discussion_round_robin_is_one_trace(network_instrumented, span_exporter: InMemorySpanExporter):
    async with local_hub() as (_, client):
        alice = await client.register(agent("alice", "Alice agrees."))
        await client.register(agent("bob", "Bob proposes."))
        await client.register(agent("carol", "Carol objects."))
        channel = await alice.open(type="discussion", target=["bob", "carol"], knobs={"ordering": "round_robin"})
        await channel.send("Topic: the plan.")
        spans = await settled(span_exporter, counts(4, 3))

    check_one_causal_trace(spans, "alice")
    posted = envelopes(spans)
    assert [sender(e) for e in posted] == ["alice", "bob", "carol", "alice"]
    assert {t.name for t in turns(spans)} >= {"invoke_agent bob", "invoke_agent carol", "invoke_agent alice"}
    assert {e.attributes[MANIFEST_TYPE] for e in posted} == {"discussion"}


async def test_workflow_sequence_is_one_trace(network_instrumented, span_exporter: InMemorySpanExporter):
    async with local_hub() as (_, client):
        alice = await client.register(agent("alice"))
        bob = await client.register(agent("bob", "Drafted."))
        carol = await client.register(agent("carol", "Reviewed."))
        graph = TransitionGraph.sequence([alice.agent_id, bob.agent_id, carol.agent_id])
        channel = await alice.open(type="workflow", target=["bob", "carol"], knobs={"graph": graph.to_dict()})
        await channel.send("Write the report.")
        spans = await settled(span_exporter, counts(3, 2))
        closed = (await channel.info()).state.value

    assert closed == "closed"
    check_one_causal_trace(spans, "alice")
    posted = envelopes(spans)
    assert [sender(e) for e in posted] == ["alice", "bob", "carol"]
    assert names_in_order(turns(spans)) == ["invoke_agent bob", "invoke_agent carol"]
    assert {e.attributes[MANIFEST_TYPE] for e in posted} == {"workflow"}


async def test_a_span_current_when_the_run_starts_is_its_root(
    network_instrumented, span_exporter: InMemorySpanExporter, tracer_provider: TracerProvider
):
    async with local_hub() as (_, client):
        alice = await client.register(agent("alice"))
        await client.register(agent("bob", "Yes."))
        channel = await alice.open(type="consulting", target="bob")
        with tracer_provider.get_tracer("app").start_as_current_span("request") as request:
            await channel.send("Ready?")
        spans = await settled(span_exporter, counts(2, 1))

    question = envelopes(spans)[0]
    assert is_child(question, request)  # type: ignore[arg-type]
    assert len({s.context.trace_id for s in spans}) == 1


async def test_a_hub_given_a_tracer_provider_keeps_ags_own_envelope_spans(
    network_instrumented, span_exporter: InMemorySpanExporter, tracer_provider: TracerProvider
):
    async with local_hub(tracer_provider=tracer_provider) as (_, client):
        alice = await client.register(agent("alice"))
        await client.register(agent("bob", "Forty-two."))
        channel = await alice.open(type="consulting", target="bob")
        await channel.send("What is the answer?")
        spans = await settled(span_exporter, counts(2, 1))

    posted = envelopes(spans)
    assert len(posted) == 2 and {scope_of(e) for e in posted} == {AG2_SCOPE}, "AG2's tracer, not ours as well"
    ids = [e.attributes[ENVELOPE_ID] for e in posted]
    assert len(set(ids)) == 2
    turn = one(spans, "invoke_agent bob")
    assert scope_of(turn) == OUR_SCOPE and is_child(turn, posted[0])
    assert [s.name for s in spans if scope_of(s) == OUR_SCOPE] == ["chat gpt-test", "invoke_agent bob"]


async def test_no_envelope_spans_once_uninstrumented(
    network_instrumented: AG2Instrumentor, span_exporter: InMemorySpanExporter
):
    async with local_hub() as (_, client):
        network_instrumented.uninstrument()  # after the hub was built
        _, answer = await bob_consulted(client, "Ready?", "Yes.")
    assert answer.event_data == {"text": "Yes."} and not answer.trace_id
    assert span_exporter.get_finished_spans() == ()


async def test_a_hub_built_after_the_patches_are_removed_is_untouched(tracer_provider: TracerProvider):
    telemetry = bare_telemetry(tracer_provider)
    patches = network_patches(telemetry)
    assert all(patch.apply() for patch in patches)
    for patch in patches:
        patch.remove()
    async with local_hub() as (hub, _):
        assert hub._envelope_tracer is None


def test_every_patch_is_on_an_existing_target(tracer_provider: TracerProvider):
    patches = network_patches(bare_telemetry(tracer_provider))
    assert sorted(p.target for p in patches) == [
        "AgentClient.receive",
        "Hub.__init__",
        "Hub._handle_request",
        "HubClient._rpc",
    ]
    for patch in patches:
        assert callable(original_function(patch.module, patch.target))


def test_a_hub_tracer_with_more_to_it_than_we_know_is_left_alone():
    from ag2.network.hub._envelope_tracing import EnvelopeTracer

    class LaterTracer(EnvelopeTracer):
        def start_batch_span(self) -> None: ...

    assert fits(EnvelopeTracer) and not fits(LaterTracer)


async def test_a_failing_tracer_never_breaks_the_run(
    network_instrumented, span_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("tracer down")

    monkeypatch.setattr(Tracer, "start_span", broken)
    async with local_hub() as (_, client):
        _, answer = await bob_consulted(client, "Anyone?", "Still here.")
    assert answer.event_data == {"text": "Still here."}
    assert envelopes(span_exporter.get_finished_spans()) == []


async def test_a_dispatch_error_whose_message_cannot_be_read_fails_its_envelope_span(
    tracer_provider: TracerProvider, span_exporter: InMemorySpanExporter
):
    hub = Agent("hub_stand_in")  # any weakly referenced object stands for the hub
    envelopes = EnvelopeSpans(bare_telemetry(tracer_provider), hub)
    envelope = SimpleNamespace(
        event_type="ag2.text", channel_id="c1", sender_id="s1", envelope_id=None, causation_id=None, audience=None
    )
    span = envelopes.start_envelope_span(envelope)

    await envelopes.finish_envelope_span(span, error=UnprintableError())

    (finished,) = span_exporter.get_finished_spans()
    assert finished.status.status_code is StatusCode.ERROR
    assert finished.attributes["error.type"].endswith("UnprintableError")
    assert finished.events[0].attributes["exception.message"] == "<unprintable UnprintableError object>"
