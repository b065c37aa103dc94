"""What the tests and the examples share: the scripted model, the OTLP receiver, the examples' environment.

Nothing here imports either AG2 line, so both lines' tests can use it.
"""
