"""Routing: which source ships each order line, handed off to partners and tracked (DESIGN.md, DOMAIN.md §4)."""
