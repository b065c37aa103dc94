"""Every test folder gets the shared fixtures of ``tests/support/fixtures.py`` (in-memory exporters, the providers,
``instrument_ag2``, an OTLP receiver); each line's conftest adds its own ``instrument``."""

pytest_plugins = ("tests.support.fixtures",)
