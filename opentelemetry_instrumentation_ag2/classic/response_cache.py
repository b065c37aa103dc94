"""Whether AG2 answered an LLM call from its response cache (``cache=`` or ``cache_seed``): no tokens spent.

AG2 counts an answer from its cache in a client wrapper's total usage but not in its actual usage, and
replaces a usage summary's entries each time it counts (a new per-model dict, a new ``total_cost``). So a
call answered from the cache is one after which the total summary has changed and the actual one has not.
"""

from __future__ import annotations

from typing import Any

from opentelemetry_instrumentation_ag2.classic.models import config_entry, config_value, first_tried

TOTAL_USAGE = "total_usage_summary"
ACTUAL_USAGE = "actual_usage_summary"


def _summary(wrapper: Any, name: str) -> dict[str, Any]:
    """One of the wrapper's usage summaries as it is now (the live dict), or ``{}``."""
    value = getattr(wrapper, name, None)
    return value if isinstance(value, dict) else {}


def _changed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether a summary gained, lost or replaced an entry since ``before`` (a shallow copy of it)."""
    return len(after) != len(before) or any(after.get(key) is not value for key, value in before.items())


class CacheWatch:
    """Watches one LLM call of a wrapper that may answer it from its cache."""

    __slots__ = ("_actual", "_total", "_wrapper")

    def __init__(self, wrapper: Any) -> None:
        self._wrapper = wrapper
        self._total = dict(_summary(wrapper, TOTAL_USAGE))  # shallow copies keep the entries' identities
        self._actual = dict(_summary(wrapper, ACTUAL_USAGE))

    def answered_from_cache(self) -> bool | None:
        """True when the cache answered, False when the model did, ``None`` when AG2 counted neither."""
        if _changed(self._actual, _summary(self._wrapper, ACTUAL_USAGE)):
            return False
        return True if _changed(self._total, _summary(self._wrapper, TOTAL_USAGE)) else None


def watch_cache(wrapper: Any, kwargs: dict[str, Any], entry: Any = None) -> CacheWatch | None:
    """A watch on this call when a cache may answer it (the call or its config entry sets one), else ``None``.

    ``entry`` is the config entry tried first, when the caller has it in hand already.

    (Two threads calling one wrapper at once could mistake each other's calls; AG2 gives each agent its own.)
    """
    if entry is None:
        entry = config_entry(wrapper, first_tried(wrapper))
    if kwargs.get("cache") is None and kwargs.get("cache_seed") is None and config_value(entry, "cache_seed") is None:
        return None
    return CacheWatch(wrapper)
