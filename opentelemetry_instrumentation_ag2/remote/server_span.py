"""Where a served request's span goes, and what its HTTP request says: for every protocol an agent serves.

One rule for the span of a request to an agent server (A2A, AG-UI): beneath an outer server span of this
same request (starlette/asgi instrumentation) it is INTERNAL; otherwise it is the request's SERVER span,
continuing the caller's W3C context from the request's headers or gRPC metadata (a malformed or absent one
starts a new trace).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind

from opentelemetry_instrumentation_ag2 import attributes as attr


class _NameValuePairs(Getter[Iterable]):
    """Reads trace-context fields from ``(name, value)`` pairs: ASGI headers (bytes) or gRPC metadata (str)."""

    @staticmethod
    def _text(value: Any) -> str:
        return value.decode("latin-1") if isinstance(value, bytes) else str(value)

    def get(self, carrier: Iterable, key: str) -> list[str] | None:
        wanted = (key, key.encode("latin-1"))  # names as ASGI (lower-case bytes) and gRPC (lower-case str) give them
        values = [
            self._text(value)
            for name, value in carrier
            if name in wanted or (name != name.lower() and self._text(name).lower() == key)
        ]
        return values or None

    def keys(self, carrier: Iterable) -> list[str]:
        return [self._text(name) for name, _ in carrier]


NAME_VALUE_PAIRS = _NameValuePairs()
"""The getter for headers as ASGI gives them and metadata as gRPC does (asgi's ``asgi_getter`` reads a scope)."""


def server_span_placement(pairs: Iterable) -> tuple[context.Context | None, SpanKind]:
    """Parent and kind of a served request's span: beneath an outer server span of this request (INTERNAL),
    else continuing the caller's context from the request's ``(name, value)`` fields (SERVER)."""
    current = trace.get_current_span().get_span_context()
    if current.is_valid:
        return None, SpanKind.SERVER if current.is_remote else SpanKind.INTERNAL
    return propagate.extract(pairs, getter=NAME_VALUE_PAIRS, context=context.Context()), SpanKind.SERVER


def http_server_attributes(scope: dict, route: str | None) -> dict[str, Any]:
    """The HTTP server attributes of an ASGI request scope and the route it matched."""
    attributes: dict[str, Any] = {
        attr.HTTP_REQUEST_METHOD: scope.get("method", "_OTHER"),
        attr.URL_PATH: scope.get("path", ""),
        attr.URL_SCHEME: scope.get("scheme", "http"),
    }
    if isinstance(route, str):
        attributes[attr.HTTP_ROUTE] = route or "/"
    server, client = scope.get("server"), scope.get("client")
    if server:  # ASGI: ``[host, port]``, the port ``None`` where there is none (a Unix socket)
        attributes[attr.SERVER_ADDRESS] = server[0]
        if isinstance(server[1], int):
            attributes[attr.SERVER_PORT] = server[1]
    if client:
        attributes[attr.CLIENT_ADDRESS] = client[0]
    return attributes
