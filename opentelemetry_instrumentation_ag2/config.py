"""Settings read from ``OTEL_*`` variables, overridable by ``AG2Instrumentor().instrument(**kwargs)``."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from opentelemetry.util.genai.types import ContentCapturingMode

logger = logging.getLogger(__name__)

CAPTURE_MESSAGE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

_LEGACY_VALUES = {"true": ContentCapturingMode.SPAN_AND_EVENT, "false": ContentCapturingMode.NO_CONTENT}


CAPTURE_MESSAGE_CONTENT_ARGUMENT = "instrument(capture_message_content=...)"


def parse_capture_mode(value: object, source: str = CAPTURE_MESSAGE_CONTENT_ENV) -> ContentCapturingMode:
    """Read a content-capture setting the way opentelemetry-util-genai does, plus the legacy ``true``/``false``.

    Any other value (an unknown name, a number, bytes, any object) falls back to ``NO_CONTENT`` with a warning
    naming ``source``, where the value came from: content never leaks by mistake, and a setting never raises.
    """
    if isinstance(value, ContentCapturingMode):
        return value
    if isinstance(value, bool):
        return ContentCapturingMode.SPAN_AND_EVENT if value else ContentCapturingMode.NO_CONTENT
    if value is None:
        return ContentCapturingMode.NO_CONTENT
    if isinstance(value, str):
        text = str.strip(value)  # str's own method: a subclass's override cannot raise here
        if not text:
            return ContentCapturingMode.NO_CONTENT
        if text.lower() in _LEGACY_VALUES:
            return _LEGACY_VALUES[text.lower()]
        if text.upper() in ContentCapturingMode.__members__:
            return ContentCapturingMode[text.upper()]
    logger.warning(
        "%s is not a valid %s; expected one of %s. Not capturing content.",
        _shown(value),
        source,
        ", ".join(mode.name for mode in ContentCapturingMode),
    )
    return ContentCapturingMode.NO_CONTENT


def _shown(value: object) -> str:
    """``repr(value)`` for the warning, or its type when even that fails."""
    try:
        return repr(value)
    except Exception:
        return f"a {type(value).__name__}"


@dataclass(frozen=True)
class Settings:
    """What the instrumentor records beyond the always-on span metadata."""

    capture_mode: ContentCapturingMode = ContentCapturingMode.NO_CONTENT

    @property
    def content_on_spans(self) -> bool:
        """Whether message content goes onto span attributes."""
        return self.capture_mode in (ContentCapturingMode.SPAN_ONLY, ContentCapturingMode.SPAN_AND_EVENT)

    @property
    def content_in_events(self) -> bool:
        """Whether message content goes into log events."""
        return self.capture_mode in (ContentCapturingMode.EVENT_ONLY, ContentCapturingMode.SPAN_AND_EVENT)

    @classmethod
    def from_env(cls, capture_message_content: object = None) -> Settings:
        """Settings from the environment; a non-None keyword wins over the variable."""
        if capture_message_content is not None:
            return cls(parse_capture_mode(capture_message_content, CAPTURE_MESSAGE_CONTENT_ARGUMENT))
        return cls(parse_capture_mode(os.environ.get(CAPTURE_MESSAGE_CONTENT_ENV)))
