"""Functional core: frozen dataclasses and pure functions, no I/O."""
