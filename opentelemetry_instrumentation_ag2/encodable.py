"""Span names and attribute strings that every exporter can encode.

A Python ``str`` may hold lone surrogates (``os.fsdecode`` of non-UTF-8 bytes, a JSON ``"\\ud800"``) that
UTF-8 cannot encode: one such string in a span makes the OTLP encoder fail the whole batch, losing the other
spans exported with it. Whatever the instrumentation puts on a span or event goes through here first, each
unencodable character replaced by U+FFFD.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable_text(text: str) -> str:
    """``text`` with every character UTF-8 cannot encode replaced by U+FFFD."""
    if text.isascii():  # constant time: the common case costs nothing
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(REPLACEMENT, text)
    return text


_PLAIN = frozenset((int, float, bool))
"""Attribute value types with nothing to encode."""
_SCALARS = frozenset((str, int, float, bool))
"""Attribute value types whose ``str()`` is the value itself or plain ASCII (not so a list's, which escapes)."""


def encodable(value: Any) -> Any:
    """An attribute value with its strings (alone or in a sequence) made encodable; other values as given."""
    if (value.__class__ is str and value.isascii()) or value.__class__ in _PLAIN:  # the common cases, at once
        return value
    if isinstance(value, str):
        return encodable_text(value)
    if isinstance(value, (list, tuple)) and any(isinstance(item, str) for item in value):
        return [encodable_text(item) if isinstance(item, str) else item for item in value]
    return value


def encodable_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """``attributes`` with every string value made encodable (the keys are the instrumentation's own): the same
    dict when there is nothing to change, told without a Python step per value (the common case)."""
    values = attributes.values()
    if _SCALARS.issuperset(map(type, values)) and "".join(map(str, values)).isascii():
        return attributes
    return {key: encodable(value) for key, value in attributes.items()}


def span_name(name: str) -> str:
    """A span name as exported: encodable, and without the trailing space an empty subject leaves
    (``invoke_agent`` for an agent without a name, the conventions' form without the suffix)."""
    return encodable_text(name).rstrip()
