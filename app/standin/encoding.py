"""Compact JSON, as Saleor puts webhook bodies and API answers on the wire, safe for ``Decimal``.

A ``Decimal`` is written as the JSON number it is, digit for digit (the stdlib
encoder refuses it, and a float detour could round it). GraphQL ``Float``
fields already arrive as floats, as graphene serialises them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

_encode_str = json.JSONEncoder(separators=(",", ":")).encode


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(_encode_str(str(key)))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} has no JSON form")
        out.append(format(value, "f"))
    else:
        out.append(_encode_str(value))


def dump_json(value: Any) -> bytes:
    """Compact UTF-8 JSON bytes (non-ASCII escaped, as Python's encoder does by default)."""
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode()
