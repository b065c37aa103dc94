"""The client side of A2A in AG2 1.x: one CLIENT span per remote call, trace context on every request it sends.

* A turn of an agent whose config is ``ag2.a2a.A2AConfig`` is one remote call (one A2A task, client-side tool
  round-trips included): :mod:`.agents` makes its ``invoke_agent {agent}`` span CLIENT with
  :func:`remote_attributes`, and :mod:`.llm` makes no ``chat`` span for the hop.
* ``A2AClient.__call__`` marks the requests it sends for propagation and puts the A2A task and context ids on
  that span.
* ``httpx.AsyncClient.send`` (agent card, JSON-RPC, REST) and ``GrpcTransport._get_grpc_metadata`` (gRPC) inject
  the current context with the global propagator into each request of a remote call, at send time, whatever
  ``httpx_client_factory``, ``interceptors``, ``headers`` or ``grpc_channel_factory`` the user configured.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from opentelemetry import context, trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from opentelemetry_instrumentation_ag2 import attributes as attr
from opentelemetry_instrumentation_ag2.encodable import encodable_text
from opentelemetry_instrumentation_ag2.endpoints import url_port
from opentelemetry_instrumentation_ag2.patching import Patch
from opentelemetry_instrumentation_ag2.remote.a2a_propagation import HTTPX_SEND, in_remote_call, inject_into_metadata
from opentelemetry_instrumentation_ag2.spans import TracingSession

logger = logging.getLogger(__name__)

CONFIG_MODULE = "ag2.a2a.config"
CLIENT_MODULE = "ag2.a2a.client"
GRPC_TRANSPORT_MODULE = "a2a.client.transports.grpc"
CONTEXT_ID_VARIABLE = "a2a:context_id:{card_url}"
"""The ``context.variables`` key under which ``A2AClient`` keeps the A2A context id of a card URL."""

REMOTE_SPAN = context.create_key("ag2-a2a-remote-span")
"""The CLIENT span of the remote call the current turn is (``None`` in a local turn)."""


def remote_card_url(config: Any) -> str | None:
    """The card URL of a remote agent's config (``A2AConfig``), ``None`` for any other config."""
    module = sys.modules.get(CONFIG_MODULE)  # not imported: no A2AConfig exists
    a2a_config = getattr(module, "A2AConfig", None)
    if a2a_config is None or not isinstance(config, a2a_config):
        return None
    return str(config.card_url)


def remote_attributes(card_url: str) -> dict[str, Any]:
    """What marks an ``invoke_agent`` span as a remote call: ``gen_ai.agent.remote``, the agent's URL and port."""
    found: dict[str, Any] = {attr.GEN_AI_AGENT_REMOTE: True, attr.SERVER_ADDRESS: card_url}
    port = url_port(card_url)
    if port:
        found[attr.SERVER_PORT] = port
    return found


def note_exchange(span: Any, client: Any, args: tuple, kwargs: dict) -> None:
    """The A2A task and context ids the client saw onto the remote call's span."""
    try:
        task_id = getattr(client, "_task_id", None)
        if task_id:
            span.set_attribute(attr.A2A_TASK_ID, encodable_text(str(task_id)))
        conversation = args[1] if len(args) > 1 else kwargs.get("context")
        variables = getattr(conversation, "variables", None) or {}
        context_id = variables.get(CONTEXT_ID_VARIABLE.format(card_url=getattr(client, "_card_url", "")))
        if context_id:
            span.set_attribute(attr.A2A_CONTEXT_ID, encodable_text(str(context_id)))
    except Exception:
        logger.debug("ag2 instrumentation failed to read the A2A exchange", exc_info=True)


def remote_call(telemetry: TracingSession) -> Callable:
    """The wrapt wrapper of ``A2AClient.__call__``: propagation on, and the A2A ids onto the turn's span."""

    async def wrapper(wrapped: Callable, client: Any, args: tuple, kwargs: dict) -> Any:
        if not telemetry.enabled or not is_instrumentation_enabled():
            return await wrapped(*args, **kwargs)
        span = context.get_value(REMOTE_SPAN)
        if span is not trace.get_current_span():  # a span between: someone else traces this call
            span = None
        token = context.attach(in_remote_call())
        try:
            return await wrapped(*args, **kwargs)
        finally:
            context.detach(token)
            if span is not None:
                note_exchange(span, client, args, kwargs)

    return wrapper


def a2a_client_patches(telemetry: TracingSession) -> list[Patch]:
    """The A2A client patches (the gRPC one applies only where a2a-sdk's gRPC transport imports)."""
    return [
        Patch(CLIENT_MODULE, "A2AClient.__call__", remote_call(telemetry)),
        HTTPX_SEND,
        Patch(GRPC_TRANSPORT_MODULE, "GrpcTransport._get_grpc_metadata", inject_into_metadata),
    ]
