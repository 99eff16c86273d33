"""One normal form per kind of value, shared by signals, lists, rules and velocity probes.

Each function returns ``None`` for a value it cannot read, never raises: the assessment scores
what exists. The list and rule parsers turn that ``None`` into a clear error.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import lru_cache

from app.domain.fraud.model import AddressFacts

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DIGITS = re.compile(r"^\d+$")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Common street-suffix and unit spellings, so "7855 N.W. 37th Street, Suite 5" and
# "7855 nw 37th st ste 5" compare equal.
_STREET_WORDS = {
    "street": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "parkway": "pkwy",
    "highway": "hwy",
    "suite": "ste",
    "apartment": "apt",
    "unit": "unit",
    "building": "bldg",
    "floor": "fl",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}


@lru_cache(maxsize=16384)
def ascii_fold(text: str) -> str:
    """Lower-case ASCII: accents dropped ("José" → "jose")."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


@lru_cache(maxsize=16384)
def normalise_domain(raw: str) -> str | None:
    """``Mail.Example.COM.`` → ``mail.example.com``; IDNs to punycode; needs at least two labels."""
    value = raw.strip().lower().lstrip("@").rstrip(".")
    if not value:
        return None
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = value.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    return value


@lru_cache(maxsize=16384)
def normalise_email(raw: str | None) -> str | None:
    """Trimmed and lower-cased, with one ``@`` and a valid domain; else ``None``."""
    if not raw:
        return None
    value = raw.strip().lower()
    local, at, domain = value.rpartition("@")
    if not at or not local or "@" in local or any(c.isspace() for c in local):
        return None
    normal_domain = normalise_domain(domain)
    if normal_domain is None:
        return None
    return f"{local}@{normal_domain}"


def email_domain(email: str) -> str:
    """The domain of an already normalised email."""
    return email.rpartition("@")[2]


@lru_cache(maxsize=16384)
def domain_suffixes(domain: str) -> tuple[str, ...]:
    """``a.b.example.com`` → itself and every parent with at least two labels."""
    labels = domain.split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels) - 1))


@lru_cache(maxsize=4096)
def parse_ip(raw: str) -> IpAddress | None:
    """An IPv4 or IPv6 address; an IPv4-mapped IPv6 address is read as the IPv4 one."""
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=16384)
def normalise_ip(raw: str) -> str | None:
    """The IP address in its compressed text form (``parse_ip`` rules); ``None`` when not an IP."""
    address = parse_ip(raw)
    return None if address is None else address.compressed


@lru_cache(maxsize=16384)
def normalise_country(raw: str | None) -> str | None:
    """Two ASCII letters, upper-cased; whether the country exists is ``address.country_known``."""
    if not raw:
        return None
    value = raw.strip().upper()
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        return None
    return value


def normalise_bin(raw: str | None) -> str | None:
    """The card's first 6 to 8 digits; spaces and dashes are dropped."""
    if not raw:
        return None
    value = raw.strip().replace(" ", "").replace("-", "")
    if not _DIGITS.match(value) or not 6 <= len(value) <= 8:
        return None
    return value


def normalise_last4(raw: str | None) -> str | None:
    """The card's last four digits (a longer digit string keeps its last four)."""
    if not raw:
        return None
    value = raw.strip().lstrip("*•x ")
    if not _DIGITS.match(value) or len(value) < 4:
        return None
    return value[-4:]


def card_key(bin_: str, last4: str) -> str:
    """``"BIN:last4"`` with the 6-digit BIN, so 6- and 8-digit sources agree."""
    return f"{bin_[:6]}:{last4}"


@lru_cache(maxsize=16384)
def street_tokens(street: str) -> tuple[str, ...]:
    """Lower-case ASCII words with common abbreviations applied; punctuation is a separator.

    Runs of single letters join up, so "N.W." reads as "nw".
    """
    words: list[str] = []
    joining = False
    for word in _NON_WORD.split(ascii_fold(street)):
        if not word:
            continue
        single = len(word) == 1 and word.isalpha()
        if single and joining:
            words[-1] += word
        else:
            words.append(word)
        joining = single
    return tuple(_STREET_WORDS.get(word, word) for word in words)


@lru_cache(maxsize=16384)
def street_key(street: str) -> str:
    """``street_tokens`` joined by single spaces: the street as compared and counted."""
    return " ".join(street_tokens(street))


@lru_cache(maxsize=16384)
def normalise_postal_code(raw: str) -> str:
    """Upper-case, without spaces or dashes ("n8 7nb" → "N87NB")."""
    return raw.upper().replace(" ", "").replace("-", "")


def canonical_address(address: AddressFacts) -> str | None:
    """``"US|33166|7855 nw 37th st ste 1 12345"``: country, postal code, street words.

    ``None`` when there is no street and no postal code, which is too little to count orders by.
    """
    country = normalise_country(address.country) or ""
    postal = normalise_postal_code(address.postal_code)
    street = street_key(address.street)
    if not street and not postal:
        return None
    return f"{country}|{postal}|{street}"
