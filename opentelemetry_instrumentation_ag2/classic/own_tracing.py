"""AG2's own opt-in tracing (``autogen.opentelemetry``) beside ours: one span per operation.

AG2's helpers wrap objects one by one. Where their wrapper runs *outside* ours, ours adopts its span
(``SpanStart.adopt``, see :func:`..spans.ag2_own_span_of`). Where it would run *inside* ours — the
LLM-based speaker selection of a group chat, and the internal agents AG2 makes for it — ours sets AG2's
wrappers aside on that object while instrumented, so only ours traces it, and ``restore_all()`` puts them
back.
"""

from __future__ import annotations

import weakref
from typing import Any

SELECTION_WRAPPERS = ("_auto_select_speaker", "a_auto_select_speaker", "_create_internal_agents")
"""What ``autogen.opentelemetry``'s ``instrument_groupchat`` wraps on a ``GroupChat``, inside ``select_speaker``."""


def _is_ag2_own_wrapper(value: Any) -> bool:
    return getattr(value, "__otel_wrapped__", False) is True


class OwnTracingSetAside:
    """AG2's own per-object wrappers, set aside while we are instrumented."""

    def __init__(self) -> None:
        self._set_aside: dict[int, tuple[weakref.ref, dict[str, Any]]] = {}

    def set_aside(self, target: Any, names: tuple[str, ...] = SELECTION_WRAPPERS) -> None:
        """Take AG2's wrappers of ``names`` off ``target`` (once), so its class's methods, ours, run."""
        found = vars(target)
        wrappers = {name: found[name] for name in names if _is_ag2_own_wrapper(found.get(name))}
        if not wrappers:
            return
        for name in wrappers:
            del found[name]
        key = id(target)
        _, earlier = self._set_aside.get(key, (None, {}))
        self._set_aside[key] = (weakref.ref(target, lambda _: self._set_aside.pop(key, None)), {**earlier, **wrappers})

    def restore_all(self) -> None:
        """Put every wrapper back where it was."""
        for ref, wrappers in list(self._set_aside.values()):
            target = ref()
            if target is not None:
                vars(target).update(wrappers)
        self._set_aside.clear()
