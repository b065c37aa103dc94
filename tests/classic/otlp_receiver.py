"""An in-test OTLP trace receiver: OTLP/gRPC and OTLP/HTTP (protobuf) on 127.0.0.1, spans collected in memory.

A thin wrapper over ``tests/support/otlp_receiver.py``. Usage::

    with OTLPReceiver() as receiver:
        # point an exporter at receiver.grpc_endpoint or receiver.http_endpoint (+ "/v1/traces")
        spans = receiver.wait_for(lambda spans: any(s.name == "root" for s in spans))
"""

from __future__ import annotations

from tests.support.otlp_receiver import ReceivedSpan, TraceReceiver

__all__ = ["OTLPReceiver", "ReceivedSpan"]


class OTLPReceiver(TraceReceiver):
    """OTLP/gRPC + OTLP/HTTP (protobuf) receiver on 127.0.0.1 ephemeral ports that collects trace spans.

    Metrics and logs are accepted and ignored on both protocols. Use as a context manager, or call
    ``start()`` / ``stop()``.
    """

    def __init__(self) -> None:
        super().__init__(host="127.0.0.1", grpc_port=0, http_port=0)

    def __enter__(self) -> OTLPReceiver:
        self.start()
        return self
