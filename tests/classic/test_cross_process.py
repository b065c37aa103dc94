"""Zero code, two processes: the seed's server.py and client.py under ``opentelemetry-instrument``, real OTLP."""

from __future__ import annotations

import pytest

from tests.support.otlp_receiver import TraceReceiver, at_least, children, one_trace, only
from tests.support.processes import instrumented_example, server_and_client

pytestmark = pytest.mark.timeout(180)


complete = at_least({"conversation user_proxy": 1, "conversation tech_agent": 2})


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_seed_complete_example_across_two_processes(protocol):
    with TraceReceiver() as receiver:
        server = instrumented_example("server.py", "--port", "0")
        url, _, spans = server_and_client(
            receiver, server, lambda url: instrumented_example("client.py", url), complete, protocol
        )

    names = {
        "conversation user_proxy",
        "invoke_agent tech_agent",
        "invoke_agent user_proxy",
        "a2a-execution",
        "conversation tech_agent",
        "chat gpt-4o-mini",
    }
    root = one_trace(spans, names)
    assert (root.name, root.service_name, root.kind) == ("conversation user_proxy", "client-service", "INTERNAL")

    turns = children(root, spans)
    assert [s.name for s in turns] == ["invoke_agent tech_agent", "invoke_agent user_proxy", "invoke_agent tech_agent"]
    remote_turns = [turns[0], turns[2]]
    assert turns[1].kind == "INTERNAL" and turns[1].service_name == "client-service"
    for call in remote_turns:
        assert call.service_name == "client-service"
        assert call.kind == "CLIENT"
        assert call.attributes["gen_ai.agent.remote"] is True
        assert call.attributes["server.address"] == url
        assert call.attributes["server.port"] == int(url.rstrip("/").rsplit(":", 1)[1])
        assert call.attributes["gen_ai.operation.name"] == "invoke_agent"
        assert call.attributes["gen_ai.agent.name"] == "tech_agent"
        assert call.attributes["ag2.span.type"] == "agent"

        executions = children(call, spans)
        assert all(
            (s.name, s.kind, s.service_name) == ("a2a-execution", "SERVER", "tech-agent-service") for s in executions
        )
        execution = only([s for s in executions if s.attributes["http.request.method"] == "POST"])
        assert execution.attributes["http.response.status_code"] == 200
        assert execution.attributes["rpc.method"] == "message/stream"
        served = only(children(execution, spans))
        assert (served.name, served.service_name) == ("conversation tech_agent", "tech-agent-service")
        assert served.attributes["gen_ai.conversation.id"] == call.attributes["gen_ai.conversation.id"]
        turn = only(children(served, spans))
        assert (turn.name, turn.kind) == ("invoke_agent tech_agent", "INTERNAL")
        llm_call = only(children(turn, spans))
        assert (llm_call.name, llm_call.kind) == ("chat gpt-4o-mini", "CLIENT")
        assert llm_call.attributes["gen_ai.usage.output_tokens"] > 0

    card_fetch = only([s for s in children(remote_turns[0], spans) if s.attributes["http.request.method"] == "GET"])
    assert card_fetch.attributes["http.route"] == "/.well-known/agent-card.json"
    assert [s.attributes["http.request.method"] for s in children(remote_turns[1], spans)] == ["POST"]
