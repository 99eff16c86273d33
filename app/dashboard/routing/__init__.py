"""Routing's tabs (sources, simulator) and the order card's routing."""
