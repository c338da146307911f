"""sop_core: the S&OP cockpit's engine, store and import, with no user interface."""

__version__ = "0.1.0"
