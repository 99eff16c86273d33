"""Shipping rate selection: the cheapest service that still arrives by the date promised (DOMAIN.md §3)."""
