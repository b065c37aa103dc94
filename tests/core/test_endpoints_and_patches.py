"""What both AG2 lines share: reading an endpoint URL, and a patch that both lines' patch lists hold."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry import context, trace
from opentelemetry.sdk.trace import TracerProvider

from opentelemetry_instrumentation_ag2.endpoints import url_endpoint, url_port
from opentelemetry_instrumentation_ag2.patching import Patch
from opentelemetry_instrumentation_ag2.remote.a2a_propagation import HTTPX_SEND, in_remote_call


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("http://127.0.0.1:8000/v1", "127.0.0.1", 8000),
        ("https://api.example.com/v1", "api.example.com", 443),
        ("grpcs://agents.example.com", "agents.example.com", 443),
        ("127.0.0.1:50051", "127.0.0.1", 50051),  # a gRPC target, no scheme
        ("http://127.0.0.1:99999/", "127.0.0.1", None),  # out of range: no port rather than an error
        (None, None, None),
        ("", None, None),
    ],
)
def test_host_and_port_of_a_url(url, host, port):
    assert url_endpoint(url) == (host, port)
    assert url_port(url) == port


async def test_the_httpx_patch_both_lines_hold_wraps_send_once_and_injects_in_remote_calls():
    assert HTTPX_SEND.apply()
    try:
        assert not Patch(HTTPX_SEND.module, HTTPX_SEND.target, HTTPX_SEND.wrapper).apply()  # the other line's
        seen: list[httpx.Request] = []
        transport = httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(200))
        tracer = TracerProvider().get_tracer("test")
        async with httpx.AsyncClient(transport=transport) as client:
            with tracer.start_as_current_span("invoke_agent remote") as span:
                await client.get("http://127.0.0.1:1/elsewhere")  # not a remote call: no context sent
                token = context.attach(in_remote_call())
                try:
                    await client.get("http://127.0.0.1:1/agent")
                finally:
                    context.detach(token)
        trace_id = format(span.get_span_context().trace_id, "032x")
        assert "traceparent" not in seen[0].headers
        assert seen[1].headers["traceparent"].split("-")[1] == trace_id
        assert [h for h in seen[1].headers if h == "traceparent"] == ["traceparent"]
    finally:
        HTTPX_SEND.remove()
    assert not hasattr(httpx.AsyncClient.send, "__wrapped__")
    assert trace.get_current_span() is trace.INVALID_SPAN
