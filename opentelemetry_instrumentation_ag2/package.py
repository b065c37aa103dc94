"""The AG2 releases this instrumentor supports (read by ``opentelemetry-instrument``).

Kept free of imports: ``opentelemetry-instrument`` reads it before anything is loaded.
The classic ``autogen`` package is published as ``ag2`` (< 1.0) and as ``autogen``; AG2 1.x is ``ag2`` >= 1.0.
Any one of them satisfies us.
"""

_instruments = ()
_instruments_any = ("ag2 >= 0.12.0, < 2", "autogen >= 0.12.0, < 1.0")
