"""Hostile input for the tests of both lines: bodies, exceptions and names that break naive telemetry."""

from __future__ import annotations

import os
from collections.abc import Sequence

import httpx
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan

NESTING = 20_000
DEEPLY_NESTED_BODY = b"[" * NESTING + b"]" * NESTING
"""A JSON body nested far deeper than Python's parser recurses (40 KB, under the instrumentation's peek limit)."""

UNENCODABLE_NAME = "agent_" + os.fsdecode(b"\xff")
"""A name holding a lone surrogate, as ``os.fsdecode`` makes of non-UTF-8 bytes: UTF-8 cannot encode it."""


class UnprintableError(Exception):
    """An exception whose message cannot be read: its ``__str__`` raises."""

    def __str__(self) -> str:
        raise ValueError("this message cannot be read")


A2A_REQUEST_HEADERS = {"content-type": "application/json", "a2a-version": "1.0"}
"""What an A2A 1.0 client sends with a request (servers of that version check the protocol version first)."""


def answer(url: str, body: bytes, path: str = "") -> tuple[int, bytes]:
    """POST ``body`` as an A2A request to ``url + path``: the HTTP status and body of the answer."""
    response = httpx.post(url + path, content=body, headers=A2A_REQUEST_HEADERS, timeout=30)
    return response.status_code, response.content


def otlp_payload(spans: Sequence[ReadableSpan]) -> bytes:
    """The spans as the OTLP exporters send them (raises where the OTLP encoder cannot encode them)."""
    return encode_spans(spans).SerializeToString()


A_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
"""The trace id the malformed values below are built around: a served request must not end up in it."""
MALFORMED_TRACEPARENTS: dict[str, str] = {
    "not hex": "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "all-zero trace id": "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    "all-zero parent id": f"00-{A_TRACE_ID}-0000000000000000-01",
    "version ff": f"ff-{A_TRACE_ID}-00f067aa0ba902b7-01",
    "truncated": f"00-{A_TRACE_ID}-00f067",
    "huge": "00-" + "a" * 8192,
    "not ASCII": "00-\u00e9\u00e9-01",
}
"""``traceparent`` values a hostile or broken caller sends: each must start a fresh trace, nothing else changed."""
