"""Allow and block lists: validated entries, an index built once per list set, and matching.

What an order is matched on, per kind:

- ``email``: the order's email (lower-cased);
- ``email_domain``: the email's domain or any parent of it (``mailinator.com`` covers
  ``eu.mailinator.com``);
- ``ip``: the customer IP, inside any listed address or CIDR network;
- ``country``: billing, shipping, IP and card-issuing countries;
- ``card``: each card of the order, by last 4 digits and BIN (6- and 8-digit BINs are
  compared on their common prefix);
- ``customer``: the Saleor customer id, exactly.

A block list matches when *any* of the order's values is listed. An allow list vouches for the
order only when *every* value the order has of that kind is listed (an allow-listed country does
not approve an order that also ships to an unlisted one).
"""

from __future__ import annotations

import ipaddress
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from app.domain.fraud.address import country_known
from app.domain.fraud.model import ListEntry, ListEntryInvalid, ListKind
from app.domain.fraud.normalise import (
    IpNetwork,
    domain_suffixes,
    normalise_bin,
    normalise_country,
    normalise_domain,
    normalise_email,
    parse_ip,
)
from app.domain.fraud.signals import OrderSignals

_NOTE_MAX = 500
ValuesOf = Callable[[OrderSignals], tuple[str, ...]]
_VALUES_OF: Mapping[ListKind, ValuesOf] = {
    ListKind.EMAIL: lambda s: (s.email,) if s.email else (),
    ListKind.EMAIL_DOMAIN: lambda s: (s.email_domain,) if s.email_domain else (),
    ListKind.IP: lambda s: (s.ip,) if s.ip else (),
    ListKind.COUNTRY: lambda s: s.countries,
    ListKind.CARD: lambda s: s.card_keys,
    ListKind.CUSTOMER: lambda s: (s.customer_id,) if s.customer_id else (),
}


@lru_cache(maxsize=4096)
def _ip_number(ip: str) -> tuple[int, int, int] | None:
    """(version, address as a number, bits) of an IP address, for prefix lookups."""
    address = parse_ip(ip)
    return None if address is None else (address.version, int(address), address.max_prefixlen)


_CARD_SEPARATORS = ":*• -"


def _card_value(raw: str) -> str:
    text = raw.strip()
    bin_part, last4 = text[:8], ""
    # Split at the first separator run: "424242:4242", "424242******4242", "42424242 4242".
    for index, char in enumerate(text):
        if char in _CARD_SEPARATORS:
            bin_part, last4 = text[:index], text[index:].lstrip(_CARD_SEPARATORS)
            break
    bin_ = normalise_bin(bin_part)
    if bin_ is None or len(last4) != 4 or not last4.isdigit():
        raise ListEntryInvalid(
            f"card {raw!r} must be the BIN (6 to 8 digits) and the last 4 digits, such as 424242:4242"
        )
    return f"{bin_}:{last4}"


def _normalise_value(kind: ListKind, raw: str) -> str:
    if kind is ListKind.EMAIL:
        email = normalise_email(raw)
        if email is None:
            raise ListEntryInvalid(f"email {raw!r} is not an email address such as name@example.com")
        return email
    if kind is ListKind.EMAIL_DOMAIN:
        domain = normalise_domain(raw)
        if domain is None:
            raise ListEntryInvalid(f"email domain {raw!r} is not a domain such as example.com")
        return domain
    if kind is ListKind.IP:
        return _ip_value(raw)
    if kind is ListKind.COUNTRY:
        country = normalise_country(raw)
        if country is None or not country_known(country):
            raise ListEntryInvalid(f"country {raw!r} is not an ISO 3166-1 two-letter code such as US or DE")
        return country
    if kind is ListKind.CARD:
        return _card_value(raw)
    customer = raw.strip()
    if not customer:
        raise ListEntryInvalid("customer must be a Saleor customer id, not empty")
    return customer


def _ip_value(raw: str) -> str:
    text = raw.strip()
    if "/" not in text:
        address = parse_ip(text)
        if address is None:
            raise ListEntryInvalid(f"ip {raw!r} is not an IP address or CIDR network such as 203.0.113.0/24")
        return address.compressed
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ListEntryInvalid(f"ip {raw!r} is not an IP address or CIDR network such as 203.0.113.0/24") from exc
        raise ListEntryInvalid(f"ip {raw!r} has host bits set; did you mean {loose.compressed}?") from exc
    return network.compressed


def parse_list_entry(kind: str, value: str, allow: bool, note: str = "") -> ListEntry:
    """A validated, normalised entry; ``ListEntryInvalid`` says what is wrong with it."""
    try:
        list_kind = ListKind(kind.strip().lower())
    except ValueError:
        expected = ", ".join(k.value for k in ListKind)
        raise ListEntryInvalid(f"unknown list kind {kind!r}; expected one of {expected}") from None
    if not isinstance(value, str):
        raise ListEntryInvalid(f"{list_kind.value} value must be text, got {type(value).__name__}")
    if not isinstance(allow, bool):
        raise ListEntryInvalid(f"allow must be true or false, got {allow!r}")
    clean_note = note.strip()
    if len(clean_note) > _NOTE_MAX:
        raise ListEntryInvalid(f"note is {len(clean_note)} characters; at most {_NOTE_MAX}")
    return ListEntry(list_kind, _normalise_value(list_kind, value), allow, clean_note)


@dataclass(frozen=True, slots=True)
class ListIndex:
    """One side (allow or block) of the lists, shaped for lookups."""

    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    networks: tuple[IpNetwork, ...] = ()
    countries: frozenset[str] = frozenset()
    cards: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # last4 → BINs
    customers: frozenset[str] = frozenset()
    # Networks grouped by (IP version, prefix length), each a set of network numbers, so an
    # address is looked up once per prefix length instead of once per network.
    ip_buckets: tuple[tuple[int, int, frozenset[int]], ...] = ()

    @property
    def kinds(self) -> tuple[ListKind, ...]:
        """The kinds with at least one entry, in ``ListKind`` order."""
        filled = {
            ListKind.EMAIL: self.emails,
            ListKind.EMAIL_DOMAIN: self.domains,
            ListKind.IP: self.networks,
            ListKind.COUNTRY: self.countries,
            ListKind.CARD: self.cards,
            ListKind.CUSTOMER: self.customers,
        }
        return tuple(kind for kind, values in filled.items() if values)

    def has_email(self, email: str) -> bool:
        return email in self.emails

    def has_domain(self, domain: str) -> bool:
        return not self.domains.isdisjoint(domain_suffixes(domain))

    def has_ip(self, ip: str) -> bool:
        parsed = _ip_number(ip)
        if parsed is None:
            return False
        version, number, bits = parsed
        for bucket_version, prefix, networks in self.ip_buckets:
            if bucket_version == version and (number >> (bits - prefix)) in networks:
                return True
        return False

    def has_country(self, country: str) -> bool:
        return country in self.countries

    def has_card(self, card: str) -> bool:
        """``card`` is ``"BIN:last4"``; BINs of different lengths match on their common prefix."""
        bin_, _, last4 = card.partition(":")
        for listed_bin in self.cards.get(last4, ()):
            if listed_bin.startswith(bin_) or bin_.startswith(listed_bin):
                return True
        return False

    def has_customer(self, customer_id: str) -> bool:
        return customer_id in self.customers

    def has(self, kind: ListKind, value: str) -> bool:
        if kind is ListKind.EMAIL:
            return self.has_email(value)
        if kind is ListKind.EMAIL_DOMAIN:
            return self.has_domain(value)
        if kind is ListKind.IP:
            return self.has_ip(value)
        if kind is ListKind.COUNTRY:
            return self.has_country(value)
        if kind is ListKind.CARD:
            return self.has_card(value)
        return self.has_customer(value)


@dataclass(frozen=True, slots=True)
class ListIndexes:
    allow: ListIndex
    block: ListIndex
    allow_kinds: tuple[ListKind, ...] = ()
    block_kinds: tuple[ListKind, ...] = ()
    # (kind, the order's values of that kind, the lookup) for each kind with entries.
    allow_checks: tuple[tuple[ListKind, ValuesOf, Callable[[str], bool]], ...] = ()
    block_checks: tuple[tuple[ListKind, ValuesOf, Callable[[str], bool]], ...] = ()


def _build(entries: Sequence[ListEntry]) -> ListIndex:
    values: dict[ListKind, set[str]] = {kind: set() for kind in ListKind}
    for entry in entries:
        values[entry.kind].add(entry.value)
    cards: dict[str, list[str]] = {}
    for card in sorted(values[ListKind.CARD]):
        bin_, _, last4 = card.partition(":")
        cards.setdefault(last4, []).append(bin_)
    networks = tuple(ipaddress.ip_network(value) for value in sorted(values[ListKind.IP]))
    buckets: dict[tuple[int, int], set[int]] = {}
    for network in networks:
        shift = network.max_prefixlen - network.prefixlen
        buckets.setdefault((network.version, network.prefixlen), set()).add(int(network.network_address) >> shift)
    return ListIndex(
        emails=frozenset(values[ListKind.EMAIL]),
        domains=frozenset(values[ListKind.EMAIL_DOMAIN]),
        networks=networks,
        countries=frozenset(values[ListKind.COUNTRY]),
        cards={last4: tuple(bins) for last4, bins in cards.items()},
        customers=frozenset(values[ListKind.CUSTOMER]),
        ip_buckets=tuple(
            (version, prefix, frozenset(numbers)) for (version, prefix), numbers in sorted(buckets.items())
        ),
    )


def _renormalised(entry: ListEntry) -> ListEntry | None:
    """The entry as ``parse_list_entry`` would make it; an entry that cannot match is dropped."""
    try:
        return parse_list_entry(entry.kind.value, entry.value, entry.allow, entry.note)
    except ListEntryInvalid:
        return None


def _indexes_for(entries: Sequence[ListEntry]) -> ListIndexes:
    clean = [entry for entry in map(_renormalised, entries) if entry is not None]
    allow = _build([entry for entry in clean if entry.allow])
    block = _build([entry for entry in clean if not entry.allow])
    return ListIndexes(allow, block, allow.kinds, block.kinds, _checks(allow), _checks(block))


def _checks(index: ListIndex) -> tuple[tuple[ListKind, ValuesOf, Callable[[str], bool]], ...]:
    lookups: dict[ListKind, Callable[[str], bool]] = {
        ListKind.EMAIL: index.has_email,
        ListKind.EMAIL_DOMAIN: index.has_domain,
        ListKind.IP: index.has_ip,
        ListKind.COUNTRY: index.has_country,
        ListKind.CARD: index.has_card,
        ListKind.CUSTOMER: index.has_customer,
    }
    return tuple((kind, _VALUES_OF[kind], lookups[kind]) for kind in index.kinds)


_EMPTY = ListIndexes(ListIndex(), ListIndex())
INDEX_CACHE_SIZE = 64
# Indexes by list content: (kind, value, allow) per entry; plain strings and bools hash and compare
# in C, where hashing the entries themselves would run dataclass code for each one.
_by_content: dict[tuple[tuple[str, str, bool], ...], ListIndexes] = {}
# The last entries indexed, to skip even that when the caller passes the same entry objects again.
_last: list[tuple[tuple[ListEntry, ...], ListIndexes]] = []


def build_list_indexes(entries: Sequence[ListEntry]) -> ListIndexes:
    """Index the entries; cached per distinct list content, and cheapest when the same entry
    objects come again (a service that keeps its loaded lists pays for indexing once)."""
    if not entries:
        return _EMPTY
    if _last:
        seen, indexes = _last[0]
        if len(seen) == len(entries) and all(map(operator.is_, seen, entries)):
            return indexes
    content = tuple([(entry.kind, entry.value, entry.allow) for entry in entries])
    found = _by_content.get(content)
    if found is None:
        found = _indexes_for(entries)
        if len(_by_content) >= INDEX_CACHE_SIZE:
            _by_content.clear()
        _by_content[content] = found
    _last[:] = [(tuple(entries), found)]
    return found


def order_values(signals: OrderSignals, kind: ListKind) -> tuple[str, ...]:
    """The order's values of one kind, normalised as list entries are."""
    return _VALUES_OF[kind](signals)


@dataclass(frozen=True, slots=True)
class ListMatch:
    kind: ListKind
    values: tuple[str, ...]


def match_allow(indexes: ListIndexes, signals: OrderSignals) -> ListMatch | None:
    """The first kind (in ``ListKind`` order) for which every value of the order is allow-listed."""
    for kind, values_of, listed in indexes.allow_checks:
        values = values_of(signals)
        if not values:
            continue
        for value in values:
            if not listed(value):
                break
        else:
            return ListMatch(kind, values)
    return None


def match_block(indexes: ListIndexes, signals: OrderSignals) -> ListMatch | None:
    """The first kind (in ``ListKind`` order) with any block-listed value of the order."""
    for kind, values_of, listed in indexes.block_checks:
        values = values_of(signals)
        for value in values:
            if listed(value):
                return ListMatch(kind, tuple([value for value in values if listed(value)]))
    return None
