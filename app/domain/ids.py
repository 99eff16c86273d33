"""Identifiers that cross layers, each with one validating constructor."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NewType
from urllib.parse import urlsplit, urlunsplit

SaleorApiUrl = NewType("SaleorApiUrl", str)
AppId = NewType("AppId", str)
SaleorId = NewType("SaleorId", str)

_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidSaleorApiUrl(ValueError):
    pass


@lru_cache(maxsize=1024)  # every webhook names its store; the few stores' URLs are parsed once
def saleor_api_url(raw: str) -> SaleorApiUrl:
    """Normalise a Saleor API URL so the webhook header and the dashboard agree.

    Scheme and host are lower-cased, a default port is dropped, the path keeps
    its case and always ends with ``/``; query and fragment are refused.
    """
    value = raw.strip()
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise InvalidSaleorApiUrl(f"not a URL: {raw!r}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidSaleorApiUrl(f"Saleor API URL must be http(s): {raw!r}")
    if not parts.hostname:
        raise InvalidSaleorApiUrl(f"Saleor API URL has no host: {raw!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidSaleorApiUrl(f"Saleor API URL must not carry credentials, query or fragment: {raw!r}")
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = parts.path or "/"
    if not path.endswith("/"):
        path += "/"
    return SaleorApiUrl(urlunsplit((scheme, netloc, path, "", "")))


def saleor_origin(api_url: SaleorApiUrl) -> str:
    """``https://shop.example.com`` for ``https://shop.example.com/graphql/``."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}"


def saleor_jwks_url(api_url: SaleorApiUrl) -> str:
    """Saleor serves its JWKS at the site root, not under the GraphQL path."""
    return saleor_origin(api_url) + "/.well-known/jwks.json"


# A ``*`` stands for part of one host label or path segment: never for the characters
# that end one (``/``, ``:`` before a port, ``?``, ``#``, ``@`` after userinfo, ``\\``
# that browsers read as ``/``, ``%`` that could encode any of them), so
# ``https://*.saleor.cloud/graphql/`` cannot match ``https://evil.example/x.saleor.cloud/graphql/``.
_WILDCARD = r"[^/:?#@\\%\s]+"


def url_matches_any(url: str, patterns: list[str]) -> bool:
    """True when ``url`` matches one of the ``*``-wildcard patterns; an empty list allows all.

    Patterns are normalised like the URL when they are URLs themselves, so
    ``https://Shop.example.com/graphql`` allows ``https://shop.example.com/graphql/``.
    """
    if not patterns:
        return True
    for pattern in patterns:
        candidate = pattern.strip()
        if "*" not in candidate:
            try:
                candidate = saleor_api_url(candidate)
            except InvalidSaleorApiUrl:
                continue
            if candidate == url:
                return True
            continue
        regex = _WILDCARD.join(re.escape(piece) for piece in candidate.split("*"))
        if re.fullmatch(regex, url, flags=re.IGNORECASE):
            return True
    return False
