"""The AG2 releases this instrumentor supports (read by ``opentelemetry-instrument``).

Kept free of imports: ``opentelemetry-instrument`` reads it before anything is loaded.
The same ``autogen`` package is published as ``ag2`` and as ``autogen``; either satisfies us.
"""

_instruments = ()
_instruments_any = ("ag2 >= 0.12.0, < 1.0", "autogen >= 0.12.0, < 1.0")
