"""The app manifest Saleor fetches at install (PROTOCOL.md a).

``manifest.json`` at the project root is the source; serving it makes every
URL absolute from ``APP_PUBLIC_URL``, inlines each webhook's subscription from
its ``.graphql`` file and sets the version from the package.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from app import __version__
from app.graphql.documents import load

MANIFEST_PATH = Path(__file__).resolve().parents[2] / "manifest.json"


@cache
def manifest_template(path: Path = MANIFEST_PATH) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(path.read_text())
    return template


def _absolute(public_url: str, url: str) -> str:
    return public_url + url if url.startswith("/") else url


def _version(value: str) -> tuple[int, int]:
    major, minor = value.split(".")[:2]
    return int(major), int(minor)


def _fits(extension: dict[str, Any], schema_version: str | None) -> bool:
    """Our own ``minSaleorVersion``/``maxSaleorVersion`` keys pick extensions per Saleor version.

    Saleor ≤3.21 refuses a manifest whose mount or target it does not know (WIDGET,
    *_DETAILS_WIDGETS arrived in 3.22), and it says which version it is in the
    ``Saleor-Schema-Version`` header of the manifest request.
    """
    lowest, highest = extension.pop("minSaleorVersion", None), extension.pop("maxSaleorVersion", None)
    if schema_version is None:  # a person or a tool asking: describe the newest Saleor
        return highest is None
    try:
        version = _version(schema_version)
    except ValueError:
        return highest is None
    return (lowest is None or version >= _version(lowest)) and (highest is None or version <= _version(highest))


def build_manifest(
    public_url: str, template: dict[str, Any] | None = None, *, schema_version: str | None = None
) -> dict[str, Any]:
    source = template if template is not None else manifest_template()
    manifest: dict[str, Any] = json.loads(json.dumps(source))  # deep copy; the template stays untouched
    manifest["version"] = __version__
    manifest["extensions"] = [e for e in manifest.get("extensions", []) if _fits(e, schema_version)]
    for key in ("appUrl", "tokenTargetUrl", "dataPrivacyUrl", "homepageUrl", "supportUrl"):
        if key in manifest:
            manifest[key] = _absolute(public_url, manifest[key])
    if "brand" in manifest:
        logo = manifest["brand"]["logo"]
        logo["default"] = _absolute(public_url, logo["default"])
    for extension in manifest.get("extensions", []):
        # APP_PAGE paths stay relative (the dashboard appends them to appUrl);
        # every other target is loaded as given, so it must be absolute.
        if extension.get("target") != "APP_PAGE":
            extension["url"] = _absolute(public_url, extension["url"])
    for webhook in manifest.get("webhooks", []):
        kind, _, name = webhook.pop("queryFile").removesuffix(".graphql").partition("/")
        webhook["query"] = load(kind, name).source
        webhook["targetUrl"] = _absolute(public_url, webhook["targetUrl"])
    return manifest
