"""A served request's HTTP exchange, observed for its span (A2A on both AG2 lines, AG-UI).

The request body is peeked at (up to :data:`MAX_BODY_PEEK` bytes, as it streams past) for its JSON-RPC
method, and the response's status is put on the span, a 5xx marking it failed. Nothing is held back or
changed: the app reads and sends exactly what it would, and nothing the observing raises reaches the app (a
hostile body nested too deep to parse is simply not described).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable

from opentelemetry.trace import Span

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.encodable import encodable_text
from opentelemetry_instrumentation_ag2.errors import mark_failed

logger = logging.getLogger(__name__)

MAX_BODY_PEEK = 64 * 1024
_RPC_METHOD = re.compile(r"^[A-Za-z][A-Za-z0-9_./-]{0,63}$")

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def json_rpc_request(body: bytes) -> tuple[str | None, str | None]:
    """The JSON-RPC method and task id (``params.id``) of a request body, of those it has; ``(None, None)`` for
    a body that is not a JSON object (including one nested too deep to parse)."""
    try:
        request = json.loads(body.decode())  # as text: no encoding to detect
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(request, dict):
        return None, None
    method, params = request.get("method"), request.get("params")
    method = method if isinstance(method, str) and _RPC_METHOD.match(method) else None
    task_id = params.get("id") if isinstance(params, dict) else None
    return method, encodable_text(task_id) if isinstance(task_id, str) else None


def note_json_rpc_method(span: Span, method: str | None) -> None:
    """``rpc.system.name`` and ``rpc.method`` of a JSON-RPC request."""
    if method:
        span.set_attribute(attr.RPC_SYSTEM_NAME, "jsonrpc")
        span.set_attribute(attr.RPC_METHOD, method)


def observed(
    span: Span,
    receive: Receive,
    send: Send,
    on_body: Callable[[bytes], None],
    fails_on: tuple[bytes, str] | None = None,
) -> tuple[Receive, Send]:
    """``receive`` and ``send`` of one request, the complete body (when small enough) handed to ``on_body``, the
    response status put on ``span``; ``fails_on`` = ``(start, error_type)``: a response body message beginning
    with ``start`` marks ``span`` failed (an error the protocol reports in a 200, as AG-UI's ``RUN_ERROR``)."""
    body = bytearray()
    marker, error_type = fails_on or (b"", "")

    def peek(message: dict) -> None:
        try:
            if message.get("type") == "http.request" and len(body) <= MAX_BODY_PEEK:
                body.extend(message.get("body", b""))
                if not message.get("more_body") and len(body) <= MAX_BODY_PEEK:
                    on_body(bytes(body))
        except Exception:  # never handed to the app
            _observing_failed()

    def record(message: dict) -> None:
        try:
            kind = message.get("type")
            if kind == "http.response.body":
                if marker and message.get("body", b"")[: len(marker)] == marker:
                    mark_failed(span, error_type)
            elif kind == "http.response.start":
                status = int(message.get("status", 0))
                span.set_attribute(attr.HTTP_RESPONSE_STATUS_CODE, status)
                if status >= 500:
                    mark_failed(span, str(status))
        except Exception:  # never handed to the app
            _observing_failed()

    async def receive_peeking() -> dict:
        message = await receive()
        peek(message)
        return message

    def send_recording(message: dict) -> Awaitable[None]:
        # a plain function handing back ``send``'s awaitable: no frame of ours for every event a stream sends
        record(message)
        return send(message)

    return receive_peeking, send_recording


def _observing_failed() -> None:
    logger.debug("ag2 instrumentation failed to observe a served request's HTTP exchange", exc_info=True)
