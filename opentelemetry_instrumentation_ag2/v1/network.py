"""Multi-agent runs on AG2 1.x's ``ag2.network`` (a ``Hub`` with conversation, consulting, discussion and
workflow channels, in one process or over its WebSocket transport), traced as one trace per run.

Participants' turns are traced by the 1.x turn patch (:mod:`.middleware`), each under the envelope that
triggered it (:func:`~opentelemetry_instrumentation_ag2.v1.agents.envelope_parent`). These patches add the
envelopes and tie them together:

* ``Hub.__init__``: a hub opened without a tracer provider makes its ``network.envelope`` spans with our
  tracer, each a child of the context that posted it (:mod:`.network_envelopes`);
* ``AgentClient.receive``: a participant handles an envelope under its span, so the reply it posts continues
  the trace (:mod:`.network_context`);
* ``HubClient._rpc`` and ``Hub._handle_request``: over the wire, a posted envelope's request carries that
  context in one extra ``params`` key, which the hub takes off and runs the request under.
"""

from __future__ import annotations

import logging

from opentelemetry_instrumentation_ag2.patching import Patch
from opentelemetry_instrumentation_ag2.spans import TracingSession

logger = logging.getLogger(__name__)

NETWORK_MODULE = "ag2.network"
"""Importing it imports every module patched here (a ``WhenImported`` target)."""
HUB_MODULE = "ag2.network.hub.core"
HUB_CLIENT_MODULE = "ag2.network.client.hub_client"
AGENT_CLIENT_MODULE = "ag2.network.client.agent_client"


def network_patches(telemetry: TracingSession) -> list[Patch]:
    """The class-level patches tracing ``ag2.network``; empty when it is not importable (or not as known)."""
    try:
        import ag2.network  # noqa: F401  (the patched modules below, all at once)

        from opentelemetry_instrumentation_ag2.v1.network_context import (
            handle_under_envelope,
            run_request_in_trace_context,
            send_with_trace_context,
        )
        from opentelemetry_instrumentation_ag2.v1.network_envelopes import fits, trace_untraced_hubs
    except ImportError:
        logger.debug("ag2 instrumentation: ag2.network is not importable", exc_info=True)
        return []
    patches = [
        Patch(AGENT_CLIENT_MODULE, "AgentClient.receive", handle_under_envelope(telemetry)),
        Patch(HUB_CLIENT_MODULE, "HubClient._rpc", send_with_trace_context(telemetry)),
        Patch(HUB_MODULE, "Hub._handle_request", run_request_in_trace_context(telemetry)),
    ]
    try:
        from ag2.network.hub._envelope_tracing import EnvelopeTracer
    except ImportError:  # AG2 traces no hub without the OpenTelemetry SDK: neither do we
        logger.debug("ag2 instrumentation: AG2's envelope tracer is not importable", exc_info=True)
        return patches
    if fits(EnvelopeTracer):
        patches.append(Patch(HUB_MODULE, "Hub.__init__", trace_untraced_hubs(telemetry)))
    else:
        logger.info("ag2 instrumentation: this AG2's hub tracer is not one we know; hubs stay untraced")
    return patches
