"""Version of opentelemetry-instrumentation-ag2."""

__version__ = "0.1.0.dev0"
