from tests.fakes.carriers import carrier_http

__all__ = ["carrier_http"]
