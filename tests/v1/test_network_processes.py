"""Zero code, two processes: a hub and a participant connected over AG2's WebSocket transport, each under
``opentelemetry-instrument`` exporting real OTLP/gRPC, make one trace."""

from __future__ import annotations

import pytest

from tests.support.otlp_receiver import ReceivedSpan, TraceReceiver
from tests.support.processes import RunningProcess, instrumented_module, otlp_env

pytestmark = pytest.mark.timeout(180)

ENVELOPE = "network.envelope ag2.msg.text"


def only(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, [span.name for span in spans]
    return found[0]


def complete(spans: list[ReceivedSpan]) -> bool:
    names = [span.name for span in spans]
    return names.count(ENVELOPE) >= 2 and "invoke_agent bob" in names and "chat gpt-test" in names


def test_a_participant_in_another_process_joins_the_hubs_trace():
    with TraceReceiver() as receiver:
        hub_env = otlp_env("hub-service", receiver.grpc_endpoint, httpx_spans=True)
        participant_env = otlp_env("participant-service", receiver.grpc_endpoint, httpx_spans=True)
        with RunningProcess(instrumented_module("tests.v1.network_hub_app"), hub_env) as hub:
            url = hub.wait_for_line("READY ")
            assert url.startswith("ws://127.0.0.1:")
            with RunningProcess(instrumented_module("tests.v1.network_participant_app", url), participant_env) as bob:
                bob.wait_for_line("READY bob")
                assert hub.wait_for_line("ANSWER ") == "Forty-two."
                bob.finish()
            hub.finish()
        spans = receiver.wait_for(complete, timeout=60)

    assert sorted(span.name for span in spans) == sorted(["chat gpt-test", "invoke_agent bob", ENVELOPE, ENVELOPE])
    assert len({span.trace_id for span in spans}) == 1, "one trace across both processes"
    question = only([s for s in spans if s.parent_span_id is None], ENVELOPE)
    reply = only([s for s in spans if s.parent_span_id is not None], ENVELOPE)
    turn, chat = only(spans, "invoke_agent bob"), only(spans, "chat gpt-test")

    assert (question.service_name, question.kind) == ("hub-service", "PRODUCER")
    assert question.scope_name == "opentelemetry_instrumentation_ag2"
    assert question.attributes["ag2.network.sender_name"] == "alice"
    assert question.attributes["ag2.network.manifest_type"] == "consulting"
    assert (turn.service_name, turn.parent_span_id) == ("participant-service", question.span_id)
    assert turn.attributes["gen_ai.agent.name"] == "bob"
    assert (chat.service_name, chat.parent_span_id) == ("participant-service", turn.span_id)
    assert (reply.service_name, reply.parent_span_id) == ("hub-service", question.span_id)
    assert reply.attributes["ag2.network.sender_name"] == "bob"
    assert reply.attributes["ag2.network.causation_id"] == question.attributes["ag2.network.envelope_id"]
