"""Imperative shell: load through ports, call the domain, persist, notify."""
