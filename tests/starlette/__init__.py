"""The classic line's A2A server beside opentelemetry-instrumentation-starlette, under ``opentelemetry-instrument``.

Run by tox's ``classic-starlette`` environment, whose pins match the starlette instrumentation's newest release.
"""
