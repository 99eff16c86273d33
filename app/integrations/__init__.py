"""Adapters to outside vendors' APIs, one package per vendor."""
