"""Fulfilment routing: which source ships which units of each order line (DOMAIN.md §4).

Pure: sources, stock, the origin quotes and the in-house unit costs are inputs; shipping's rates and
promise dates reach it only as the caller's quoter, so the capability imports no other.
"""
