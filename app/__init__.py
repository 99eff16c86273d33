"""Saleor Ops: the operations app for Saleor stores."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("saleor-ops")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
