"""Living with opentelemetry-util-genai-based instrumentations (openai-v2 and the others).

Version-gated, as util-genai's releases differ. From 1.3 on, util-genai shares two context values: "an
inference is already open", by which those instrumentations see our ``chat`` span and make none of their
own (one span per LLM call); and the conversation id, which they put on their spans as
``gen_ai.conversation.id``. Earlier releases (which the published openai-v2 requires) have neither: there
openai-v2's span is the call's one span, and ours steps aside.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

OPENAI_V2_MODULE = "opentelemetry.instrumentation.openai_v2"


@functools.cache
def _inference_contract() -> tuple[Any, Any] | None:
    """util-genai's "inference already open" context key and value type (util-genai >= 1.3), looked up once."""
    try:
        from opentelemetry.util.genai.invocation import CLIENT_INFERENCE_CONTEXT_KEY, InferenceData
    except ImportError:
        return None
    return CLIENT_INFERENCE_CONTEXT_KEY, InferenceData


def conversation_id_key() -> Any | None:
    """util-genai's context key for the ambient conversation id (util-genai >= 1.3), or ``None``.

    util-genai offers it only through its handler, which would start a span of its own; the key itself
    lives in its ``_conversation_context`` module. Sharing it is what lets a util-genai instrumentation
    inside an AG2 chat (an LLM call from a tool, say) carry the chat's ``gen_ai.conversation.id``.
    """
    try:
        from opentelemetry.util.genai._conversation_context import CONVERSATION_ID_KEY
    except ImportError:
        return None
    return CONVERSATION_ID_KEY


def inference_scope() -> dict[Any, Any] | None:
    """The context value by which util-genai instrumentations see an LLM span already open and make none of
    their own, or ``None`` where the installed util-genai has no such contract."""
    contract = _inference_contract()
    if contract is None:
        return None
    key, data = contract
    return {key: data()}


def openai_v2_traces(through_openai_sdk: bool) -> bool:
    """Whether opentelemetry-instrumentation-openai-v2 will make its own span for an LLM call.

    True when the call goes through the ``openai`` SDK, openai-v2 is instrumenting, and the installed
    util-genai cannot tell it that our span is already open: then its span is the call's one span, not ours.
    """
    if not through_openai_sdk:
        return False
    module = sys.modules.get(OPENAI_V2_MODULE)
    if module is None or _inference_contract() is not None:
        return False
    return bool(module.OpenAIInstrumentor().is_instrumented_by_opentelemetry)  # the singleton's public state
