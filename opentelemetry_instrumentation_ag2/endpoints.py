"""``server.address`` / ``server.port`` of a URL, the one way both AG2 lines read a model's or an agent's endpoint."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443, "grpcs": 443}


def url_endpoint(url: Any) -> tuple[str | None, int | None]:
    """The host a URL names and the port it reaches (its own, else its scheme's default), each ``None`` when it
    cannot be told."""
    return _endpoint(str(url)) if url else (None, None)


@functools.lru_cache(maxsize=256)
def _endpoint(text: str) -> tuple[str | None, int | None]:
    """:func:`url_endpoint` of a URL's text, read once per URL (a 1.x turn reads its model's every time)."""
    parts = urlsplit(text if "//" in text else f"//{text}")  # gRPC targets lack a scheme
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a port out of range or not a number
        port = None
    return parts.hostname, port


def url_port(url: Any) -> int | None:
    """The port a URL reaches: its own, else its scheme's default; ``None`` when it cannot be told."""
    return url_endpoint(url)[1]
