"""Shipping's tabs: rate tables, carrier accounts, settings forms and the rate tester."""
