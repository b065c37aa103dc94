"""Zero code, two processes: an A2A server and its client, each under ``opentelemetry-instrument``, one trace.

Both export real OTLP/gRPC to an in-test receiver; the only tracing setup is the environment.
"""

from __future__ import annotations

import pytest

from tests.support.otlp_receiver import at_least, children, one_trace, only
from tests.v1.a2a_support import ask_across_processes

pytestmark = pytest.mark.timeout(180)


complete = at_least({"invoke_agent triage": 1, "a2a-execution": 4, "chat gpt-test": 4})


SENT_MESSAGE = {
    "jsonrpc": ("rpc.method", "SendStreamingMessage"),
    "rest": ("http.request.method", "POST"),
    "grpc": ("rpc.method", "lf.a2a.v1.A2AService/SendStreamingMessage"),
}
"""What each transport's request span says of the message it carries."""


@pytest.mark.parametrize("transport", ["jsonrpc", "rest", "grpc"])
def test_a_remote_agent_across_two_processes_is_one_trace(transport: str) -> None:
    url, reply, spans = ask_across_processes(transport, complete)
    assert "REPLY: Done." in reply

    names = {
        "invoke_agent triage",
        "chat gpt-test",
        "execute_tool ask_tech_agent",
        "invoke_agent tech_agent",
        "a2a-execution",
    }
    root = one_trace(spans, names, "ours only: no a2a-sdk spans")
    assert (root.name, root.service_name) == ("invoke_agent triage", "client-service")
    tool_span = only([s for s in children(root, spans) if s.name == "execute_tool ask_tech_agent"])
    calls = children(tool_span, spans)
    assert [(s.name, s.kind, s.service_name) for s in calls] == [
        ("invoke_agent tech_agent", "CLIENT", "client-service")
    ] * 2
    for call in calls:
        assert call.attributes["gen_ai.agent.remote"] is True
        assert call.attributes["server.address"] == url
        assert call.attributes["server.port"] == int(url.rstrip("/").rsplit(":", 1)[1])
        executions = children(call, spans)
        assert [(s.name, s.kind, s.service_name) for s in executions] == [
            ("a2a-execution", "SERVER", "tech-agent-service")
        ] * 2
        card, message = executions
        assert card.attributes["http.route"] == "/.well-known/agent-card.json"
        key, value = SENT_MESSAGE[transport]
        assert message.attributes[key] == value
        assert message.attributes["a2a.task.id"] == call.attributes["a2a.task.id"]
        assert message.attributes["a2a.context.id"] == call.attributes["a2a.context.id"]
        served = only(children(message, spans))
        assert (served.name, served.kind, served.service_name) == (
            "invoke_agent tech_agent",
            "INTERNAL",
            "tech-agent-service",
        )
        assert [(s.name, s.kind) for s in children(served, spans)] == [("chat gpt-test", "CLIENT")]
    assert calls[0].attributes["a2a.context.id"] == calls[1].attributes["a2a.context.id"]  # the follow-up
