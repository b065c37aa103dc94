"""The one rule both AG2 lines follow for the span of a request an agent server serves (A2A, AG-UI)."""

from __future__ import annotations

from opentelemetry import context, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from opentelemetry_instrumentation_ag2.remote.server_span import http_server_attributes, server_span_placement

CALLER = SpanContext(0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7, is_remote=True, trace_flags=TraceFlags(1))
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def parent_span_context(parent: context.Context | None) -> SpanContext:
    return trace.get_current_span(parent).get_span_context()


def test_a_request_alone_continues_the_callers_context_as_the_server_span():
    parent, kind = server_span_placement([(b"traceparent", TRACEPARENT.encode())])
    assert kind is SpanKind.SERVER
    assert parent_span_context(parent) == CALLER


def test_grpc_metadata_and_header_dicts_are_read_alike():
    for pairs in ([("traceparent", TRACEPARENT)], {"Traceparent": TRACEPARENT}.items()):
        assert parent_span_context(server_span_placement(pairs)[0]) == CALLER


def test_beneath_another_instrumentations_server_span_it_is_internal():
    with TracerProvider().get_tracer("outer").start_as_current_span("POST /", kind=SpanKind.SERVER):
        parent, kind = server_span_placement([(b"traceparent", TRACEPARENT.encode())])
    assert (parent, kind) == (None, SpanKind.INTERNAL)


def test_beneath_a_context_only_extracted_it_is_still_the_server_span():
    token = context.attach(trace.set_span_in_context(NonRecordingSpan(CALLER)))
    try:
        parent, kind = server_span_placement(())
    finally:
        context.detach(token)
    assert (parent, kind) == (None, SpanKind.SERVER)


def test_a_malformed_traceparent_starts_a_new_trace():
    parent, kind = server_span_placement([(b"traceparent", b"00-not-a-trace-01")])
    assert kind is SpanKind.SERVER
    assert not parent_span_context(parent).is_valid


def test_http_attributes_of_a_scope():
    scope = {
        "method": "POST",
        "path": "/a",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5),
    }
    assert http_server_attributes(scope, "/a") == {
        "http.request.method": "POST",
        "url.path": "/a",
        "url.scheme": "http",
        "http.route": "/a",
        "server.address": "127.0.0.1",
        "server.port": 8000,
        "client.address": "127.0.0.1",
    }


def test_a_server_without_a_port_has_no_port_attribute():
    scope = {"method": "GET", "path": "/", "scheme": "http", "server": ("/run/agent.sock", None), "client": None}
    attributes = http_server_attributes(scope, None)
    assert attributes["server.address"] == "/run/agent.sock"
    assert "server.port" not in attributes and "client.address" not in attributes
