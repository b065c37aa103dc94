"""The demo's trace in a real Arize Phoenix (``phoenix serve``), read back through Phoenix's own REST API."""
