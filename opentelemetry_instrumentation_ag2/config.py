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


def parse_capture_mode(
    value: str | bool | ContentCapturingMode | None, source: str = CAPTURE_MESSAGE_CONTENT_ENV
) -> ContentCapturingMode:
    """Read a content-capture setting the way opentelemetry-util-genai does, plus the legacy ``true``/``false``.

    Unknown values fall back to ``NO_CONTENT`` with a warning naming ``source``, where the value came from:
    content never leaks by mistake.
    """
    if isinstance(value, ContentCapturingMode):
        return value
    if isinstance(value, bool):
        return ContentCapturingMode.SPAN_AND_EVENT if value else ContentCapturingMode.NO_CONTENT
    text = (value or "").strip()
    if not text:
        return ContentCapturingMode.NO_CONTENT
    if text.lower() in _LEGACY_VALUES:
        return _LEGACY_VALUES[text.lower()]
    try:
        return ContentCapturingMode[text.upper()]
    except KeyError:
        logger.warning(
            "%r is not a valid %s; expected one of %s. Not capturing content.",
            text,
            source,
            ", ".join(mode.name for mode in ContentCapturingMode),
        )
        return ContentCapturingMode.NO_CONTENT


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
    def from_env(cls, capture_message_content: str | bool | ContentCapturingMode | None = None) -> Settings:
        """Settings from the environment; a non-None keyword wins over the variable."""
        if capture_message_content is not None:
            return cls(parse_capture_mode(capture_message_content, CAPTURE_MESSAGE_CONTENT_ARGUMENT))
        return cls(parse_capture_mode(os.environ.get(CAPTURE_MESSAGE_CONTENT_ENV)))
