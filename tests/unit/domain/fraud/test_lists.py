import pytest

from app.domain.fraud import (
    CardFacts,
    FraudPolicy,
    ListEntry,
    ListEntryInvalid,
    ListKind,
    Stage,
    build_list_indexes,
    parse_list_entry,
)
from app.domain.fraud.lists import ListMatch, match_allow, match_block, order_values
from app.domain.fraud.signals import OrderSignals, derive_signals
from tests.unit.domain.fraud.builders import NOW, make_address, make_history, make_order, make_payment


def signals_of(**overrides: object) -> OrderSignals:
    return derive_signals(make_order(**overrides), make_history(), FraudPolicy(), stage=Stage.PAID, now=NOW)


def entries(*specs: tuple[str, str, bool]) -> list[ListEntry]:
    return [parse_list_entry(kind, value, allow) for kind, value, allow in specs]


class TestParseListEntry:
    @pytest.mark.parametrize(
        ("kind", "value", "expected"),
        [
            pytest.param("email", " Fraud@Example.COM ", "fraud@example.com", id="email-lower-cased"),
            pytest.param("email_domain", "@Mailinator.COM", "mailinator.com", id="domain"),
            pytest.param("ip", "203.0.113.7", "203.0.113.7", id="ipv4"),
            pytest.param("ip", "2001:DB8::/32", "2001:db8::/32", id="ipv6-cidr"),
            pytest.param("ip", "198.51.100.0/24", "198.51.100.0/24", id="ipv4-cidr"),
            pytest.param("country", " ng ", "NG", id="country-upper-cased"),
            pytest.param("card", "424242:4242", "424242:4242", id="card"),
            pytest.param("card", "42424242 4242", "42424242:4242", id="card-eight-digit-bin"),
            pytest.param("card", "424242******4242", "424242:4242", id="card-masked"),
            pytest.param("customer", " VXNlcjox ", "VXNlcjox", id="customer"),
            pytest.param(" EMAIL ", "a@example.com", "a@example.com", id="kind-spelling"),
        ],
    )
    def test_normalises_valid_values(self, kind: str, value: str, expected: str) -> None:
        entry = parse_list_entry(kind, value, allow=False, note=" chargeback 2026-10 ")
        assert entry == ListEntry(ListKind(kind.strip().lower()), expected, False, "chargeback 2026-10")

    @pytest.mark.parametrize(
        ("kind", "value", "message"),
        [
            pytest.param("phone", "1", "unknown list kind 'phone'; expected one of email, email_domain", id="kind"),
            pytest.param("email", "not-an-email", "is not an email address", id="email"),
            pytest.param("email_domain", "localhost", "is not a domain", id="domain"),
            pytest.param("ip", "300.1.1.1", "is not an IP address or CIDR network", id="ip"),
            pytest.param("ip", "10.0.0.1/8", "has host bits set; did you mean 10.0.0.0/8?", id="host-bits"),
            pytest.param("ip", "10.0.0.0/99", "is not an IP address or CIDR network", id="bad-prefix"),
            pytest.param("country", "XY", "is not an ISO 3166-1 two-letter code", id="unknown-country"),
            pytest.param("country", "USA", "is not an ISO 3166-1 two-letter code", id="alpha-3"),
            pytest.param("card", "4242:4242", "must be the BIN (6 to 8 digits) and the last 4 digits", id="short-bin"),
            pytest.param("card", "424242:424", "must be the BIN", id="short-last4"),
            pytest.param("card", "4242424242424242", "must be the BIN", id="full-number"),
            pytest.param("customer", "  ", "customer must be a Saleor customer id", id="empty-customer"),
        ],
    )
    def test_refuses_invalid_values_with_the_reason(self, kind: str, value: str, message: str) -> None:
        with pytest.raises(ListEntryInvalid, match=message.replace("?", r"\?").replace("(", r"\(").replace(")", r"\)")):
            parse_list_entry(kind, value, allow=True)

    def test_refuses_non_text_values_and_flags(self) -> None:
        with pytest.raises(ListEntryInvalid, match="value must be text"):
            parse_list_entry("email", 5, allow=True)  # type: ignore[arg-type]
        with pytest.raises(ListEntryInvalid, match="allow must be true or false"):
            parse_list_entry("email", "a@example.com", allow="yes")  # type: ignore[arg-type]

    def test_refuses_overlong_notes(self) -> None:
        with pytest.raises(ListEntryInvalid, match="note is 501 characters; at most 500"):
            parse_list_entry("email", "a@example.com", allow=True, note="x" * 501)


class TestBlockMatching:
    @pytest.mark.parametrize(
        ("entry", "expected"),
        [
            pytest.param(
                ("email", "JOHN.SMITH@example.com", False),
                ListMatch(ListKind.EMAIL, ("john.smith@example.com",)),
                id="email",
            ),
            pytest.param(
                ("email_domain", "example.com", False), ListMatch(ListKind.EMAIL_DOMAIN, ("example.com",)), id="domain"
            ),
            pytest.param(
                ("ip", "203.0.113.0/24", False), ListMatch(ListKind.IP, ("203.0.113.7",)), id="cidr-contains-ip"
            ),
            pytest.param(("ip", "203.0.113.7", False), ListMatch(ListKind.IP, ("203.0.113.7",)), id="single-ip"),
            pytest.param(("country", "US", False), ListMatch(ListKind.COUNTRY, ("US",)), id="country"),
            pytest.param(("card", "424242:4242", False), ListMatch(ListKind.CARD, ("424242:4242",)), id="card"),
            pytest.param(
                ("card", "42424299:4242", False), ListMatch(ListKind.CARD, ("424242:4242",)), id="card-8-digit-bin"
            ),
            pytest.param(("customer", "VXNlcjox", False), ListMatch(ListKind.CUSTOMER, ("VXNlcjox",)), id="customer"),
        ],
    )
    def test_blocks_the_listed_value(self, entry: tuple[str, str, bool], expected: ListMatch) -> None:
        assert match_block(build_list_indexes(entries(entry)), signals_of()) == expected

    @pytest.mark.parametrize(
        "entry",
        [
            pytest.param(("email", "other@example.com", False), id="other-email"),
            pytest.param(("email_domain", "ample.com", False), id="domain-suffix-not-on-label-boundary"),
            pytest.param(("ip", "203.0.114.0/24", False), id="other-network"),
            pytest.param(("card", "555555:4242", False), id="other-bin"),
            pytest.param(("card", "424242:1111", False), id="other-last4"),
            pytest.param(("customer", "vxnlcjox", False), id="customer-ids-are-case-sensitive"),
            pytest.param(("email", "john.smith@example.com", True), id="allow-side-is-not-block"),
        ],
    )
    def test_ignores_other_values(self, entry: tuple[str, str, bool]) -> None:
        assert match_block(build_list_indexes(entries(entry)), signals_of()) is None

    def test_parent_domain_blocks_subdomains(self) -> None:
        indexes = build_list_indexes(entries(("email_domain", "mailinator.com", False)))
        assert match_block(indexes, signals_of(email="x@eu.mailinator.com")) == ListMatch(
            ListKind.EMAIL_DOMAIN, ("eu.mailinator.com",)
        )

    def test_any_country_of_the_order_blocks(self) -> None:
        indexes = build_list_indexes(entries(("country", "NG", False)))
        order_signals = signals_of(customer_ip_country="NG")
        assert match_block(indexes, order_signals) == ListMatch(ListKind.COUNTRY, ("NG",))

    def test_any_card_of_the_order_blocks(self) -> None:
        indexes = build_list_indexes(entries(("card", "555555:1111", False)))
        second = make_payment(card=CardFacts(bin="555555", last4="1111"))
        assert match_block(indexes, signals_of(payments=(make_payment(), second))) == ListMatch(
            ListKind.CARD, ("555555:1111",)
        )

    def test_kinds_are_tried_in_a_fixed_order(self) -> None:
        indexes = build_list_indexes(
            entries(("customer", "VXNlcjox", False), ("email", "john.smith@example.com", False))
        )
        match = match_block(indexes, signals_of())
        assert match is not None
        assert match.kind is ListKind.EMAIL

    def test_missing_values_never_match(self) -> None:
        indexes = build_list_indexes(
            entries(("email_domain", "example.com", False), ("ip", "0.0.0.0/0", False), ("card", "424242:4242", False))
        )
        quiet = signals_of(email=None, customer_ip=None, payments=(), customer_id=None)
        assert match_block(indexes, quiet) is None


class TestAllowMatching:
    def test_allows_a_listed_customer(self) -> None:
        indexes = build_list_indexes(entries(("customer", "VXNlcjox", True)))
        assert match_allow(indexes, signals_of()) == ListMatch(ListKind.CUSTOMER, ("VXNlcjox",))

    def test_country_allows_only_when_every_country_is_listed(self) -> None:
        indexes = build_list_indexes(entries(("country", "US", True)))
        assert match_allow(indexes, signals_of()) == ListMatch(ListKind.COUNTRY, ("US",))
        abroad = signals_of(shipping=make_address(country="GB", country_area="", postal_code="N8 7NB"))
        assert match_allow(indexes, abroad) is None

    def test_empty_lists_match_nothing(self) -> None:
        indexes = build_list_indexes([])
        assert match_allow(indexes, signals_of()) is None
        assert match_block(indexes, signals_of()) is None


class TestIndexes:
    def test_indexes_are_cached_per_list_set(self) -> None:
        listed = entries(("email", "a@example.com", False))
        assert build_list_indexes(listed) is build_list_indexes(tuple(listed))

    def test_equal_lists_loaded_again_reuse_the_index(self) -> None:
        first = build_list_indexes(entries(("email", "b@example.com", False), ("country", "NG", False)))
        build_list_indexes(entries(("email", "c@example.com", False)))
        again = build_list_indexes(entries(("email", "b@example.com", False), ("country", "NG", False)))
        assert again is first

    def test_the_content_cache_is_bounded(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from app.domain.fraud import lists

        monkeypatch.setattr(lists, "INDEX_CACHE_SIZE", 1)
        build_list_indexes(entries(("email", "d@example.com", False)))
        index = build_list_indexes(entries(("email", "e@example.com", True)))
        assert len(lists._by_content) == 1
        assert index.allow.emails == {"e@example.com"}

    def test_entries_built_by_hand_are_normalised_or_dropped(self) -> None:
        indexes = build_list_indexes(
            [ListEntry(ListKind.EMAIL, "JOHN.SMITH@EXAMPLE.COM", False), ListEntry(ListKind.IP, "garbage", False)]
        )
        assert indexes.block.emails == {"john.smith@example.com"}
        assert indexes.block.networks == ()
        assert indexes.block_kinds == (ListKind.EMAIL,)

    def test_order_values_per_kind(self) -> None:
        order_signals = signals_of(payments=(make_payment(card=CardFacts(bin="424242", last4="4242", country="GB")),))
        assert order_values(order_signals, ListKind.COUNTRY) == ("US", "GB")
        assert order_values(order_signals, ListKind.CUSTOMER) == ("VXNlcjox",)


class TestIndexLookups:
    INDEX = build_list_indexes(
        entries(
            ("email", "a@example.com", False),
            ("email_domain", "example.org", False),
            ("ip", "2001:db8::/32", False),
            ("ip", "198.51.100.0/24", False),
            ("country", "NG", False),
            ("card", "42424242:4242", False),
            ("customer", "VXNlcjoy", False),
        )
    ).block

    @pytest.mark.parametrize(
        ("kind", "value", "listed"),
        [
            pytest.param(ListKind.EMAIL, "a@example.com", True, id="email"),
            pytest.param(ListKind.EMAIL_DOMAIN, "shop.example.org", True, id="domain"),
            pytest.param(ListKind.IP, "2001:db8::7", True, id="ipv6"),
            pytest.param(ListKind.IP, "198.51.100.200", True, id="ipv4"),
            pytest.param(ListKind.IP, "198.51.101.1", False, id="ipv4-outside"),
            pytest.param(ListKind.IP, "garbage", False, id="not-an-ip"),
            pytest.param(ListKind.COUNTRY, "NG", True, id="country"),
            pytest.param(ListKind.CARD, "424242:4242", True, id="card-shorter-bin"),
            pytest.param(ListKind.CARD, "55555555:4242", False, id="card-other-bin"),
            pytest.param(ListKind.CUSTOMER, "VXNlcjoy", True, id="customer"),
        ],
    )
    def test_has_dispatches_by_kind(self, kind: ListKind, value: str, listed: bool) -> None:
        assert self.INDEX.has(kind, value) is listed
