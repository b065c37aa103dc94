"""``server.address`` / ``server.port`` of a URL, the one way both AG2 lines read a model's or an agent's endpoint."""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443, "grpcs": 443}


def _parts(url: Any) -> SplitResult | None:
    text = str(url) if url else ""
    return urlsplit(text if "//" in text else f"//{text}") if text else None  # gRPC targets lack a scheme


def url_port(url: Any) -> int | None:
    """The port a URL reaches: its own, else its scheme's default; ``None`` when it cannot be told."""
    parts = _parts(url)
    try:
        return (parts.port or _DEFAULT_PORTS.get(parts.scheme)) if parts else None
    except ValueError:  # a port out of range or not a number
        return None


def url_host(url: Any) -> str | None:
    """The host a URL names, if any."""
    parts = _parts(url)
    return parts.hostname if parts else None
