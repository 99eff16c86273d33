"""Which permissions Saleor asks of the caller for a field, read the way Saleor writes them down.

Saleor states most field permissions in its schema's descriptions ("Requires one of the
following permissions: MANAGE_ORDERS, HANDLE_PAYMENTS."); ``requirements_in`` reads those
notes. A few permissions its resolvers enforce without a note; ``UNNOTED`` and
``PRIVATE_METADATA`` hold those, taken from Saleor's source (3.20). The stand-in enforces
both on what it serves, and the contract test holds the app's documents to both.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

# Saleor's authorization filters: granted by who the caller is, not by a permission it holds.
# OWNER has no check of its own in Saleor; a resolver that honours it checks ownership itself.
AUTHENTICATED_APP = "AUTHENTICATED_APP"
OWNER = "OWNER"


@dataclass(frozen=True, slots=True)
class Requirement:
    """Any one alternative grants the field; an alternative needs all of its permissions.

    ``only_for_old_objects``: the note holds only for objects made before Saleor 3.2 (orders'
    customer data), so a store may or may not apply it.
    """

    alternatives: tuple[frozenset[str], ...]
    only_for_old_objects: bool = False

    @classmethod
    def one_of(cls, *permissions: str) -> Requirement:
        return cls(tuple(frozenset({p}) for p in permissions))

    @property
    def permissions(self) -> tuple[str, ...]:
        """Every permission named, in the order the note names them."""
        named: list[str] = []
        for alternative in self.alternatives:
            named += sorted(p for p in alternative if p not in named)
        return tuple(named)

    def granted_to(self, held: Collection[str]) -> bool:
        return any(alternative <= set(held) for alternative in self.alternatives)


# A private-metadata field's note; the permission depends on the object's type (below).
PRIVATE_METADATA_NOTE = "Requires staff permissions to access"

_PERMISSION = re.compile(r"\b[A-Z][A-Z_]*[A-Z]\b")
# "Requires one of the following permissions: A, B." (also "of of", and "for other orders
# requires …"); "Requires the following permissions: A and B."; "Requires one of following
# set of permissions: A or B + C.". The text after the colon runs to the sentence's end.
_NOTE = re.compile(
    r"(?P<old>for other \w+ )?[Rr]equires (?P<kind>(?:one|of) of (?:the )?following(?: set of)?|the following)"
    r" permissions(?P<scope> to [^:]*)?: (?P<names>[^.]*)"
)


def requirements_in(description: str | None) -> list[Requirement]:
    """The permission notes in one description of Saleor's schema, each a requirement of its own.

    Notes that narrow what a field returns ("… to include the unpublished items") require
    nothing to select the field and are left out.
    """
    found: list[Requirement] = []
    for note in _NOTE.finditer(description or ""):
        if note["scope"]:
            continue
        names = note["names"]
        if note["kind"] == "the following":
            # All of them; where apps and staff differ ("A and B for apps, B for staff users"), the apps' part.
            for_apps = [part for part in names.split(",") if part.strip().endswith("for apps")]
            alternatives: tuple[frozenset[str], ...] = (
                frozenset(_PERMISSION.findall(for_apps[0] if for_apps else names)),
            )
        else:
            # Each name grants alone, but names joined by "+" grant together.
            alternatives = tuple(
                alternative
                for part in re.split(r",| or ", names)
                for alternative in (
                    [frozenset(_PERMISSION.findall(part))]
                    if "+" in part
                    else [frozenset({name}) for name in _PERMISSION.findall(part)]
                )
            )
        found.append(Requirement(alternatives, only_for_old_objects=note["old"] is not None))
    return found


def needs_private_metadata_permission(description: str | None) -> bool:
    return PRIVATE_METADATA_NOTE in (description or "")


# Enforced by Saleor's resolvers, with no note in the schema (which even says "Can be accessed
# without permissions"): a Payment's public metadata needs HANDLE_PAYMENTS from any app or staff
# user (saleor/graphql/payment/types.py, Payment.resolve_metadata).
UNNOTED: dict[tuple[str, str], Requirement] = {
    ("Payment", "metadata"): Requirement.one_of("HANDLE_PAYMENTS"),
}

# What an app needs to read an object's private metadata, by the object's type
# (saleor/graphql/meta/permissions.py, PRIVATE_META_PERMISSION_MAP). Customers and their
# addresses are taken for customers' (staff users' need MANAGE_STAFF); an app reads its own
# (OWNER). A type missing here is refused to every app.
PRIVATE_METADATA: dict[str, Requirement] = {
    "Address": Requirement.one_of("MANAGE_USERS"),
    "App": Requirement.one_of("MANAGE_APPS", OWNER),
    "Attribute": Requirement.one_of("MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES"),
    "Category": Requirement.one_of("MANAGE_PRODUCTS"),
    "Channel": Requirement.one_of("MANAGE_CHANNELS"),
    "Checkout": Requirement.one_of("MANAGE_CHECKOUTS"),
    "CheckoutLine": Requirement.one_of("MANAGE_CHECKOUTS"),
    "Collection": Requirement.one_of("MANAGE_PRODUCTS"),
    "DigitalContent": Requirement.one_of("MANAGE_PRODUCTS"),
    "Fulfillment": Requirement.one_of("MANAGE_ORDERS"),
    "GiftCard": Requirement.one_of("MANAGE_GIFT_CARD"),
    "Invoice": Requirement.one_of("MANAGE_ORDERS"),
    "Menu": Requirement.one_of("MANAGE_MENUS"),
    "MenuItem": Requirement.one_of("MANAGE_MENUS"),
    "Order": Requirement.one_of("MANAGE_ORDERS"),
    "OrderLine": Requirement.one_of("MANAGE_ORDERS"),
    "Page": Requirement.one_of("MANAGE_PAGES"),
    "PageType": Requirement.one_of("MANAGE_PAGE_TYPES_AND_ATTRIBUTES"),
    "Payment": Requirement.one_of("HANDLE_PAYMENTS"),
    "Product": Requirement.one_of("MANAGE_PRODUCTS"),
    "ProductMedia": Requirement.one_of("MANAGE_PRODUCTS"),
    "ProductType": Requirement.one_of("MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES"),
    "ProductVariant": Requirement.one_of("MANAGE_PRODUCTS"),
    "Promotion": Requirement.one_of("MANAGE_DISCOUNTS"),
    "Sale": Requirement.one_of("MANAGE_DISCOUNTS"),
    "ShippingMethod": Requirement.one_of("MANAGE_SHIPPING"),
    "ShippingMethodType": Requirement.one_of("MANAGE_SHIPPING"),
    "ShippingZone": Requirement.one_of("MANAGE_SHIPPING"),
    "Shop": Requirement.one_of("MANAGE_SETTINGS"),
    "TaxClass": Requirement.one_of("HANDLE_TAXES", "MANAGE_TAXES"),
    "TaxConfiguration": Requirement.one_of("HANDLE_TAXES", "MANAGE_TAXES"),
    "TransactionItem": Requirement.one_of("HANDLE_PAYMENTS"),
    "User": Requirement.one_of("MANAGE_USERS"),
    "Voucher": Requirement.one_of("MANAGE_DISCOUNTS"),
    "Warehouse": Requirement.one_of("MANAGE_PRODUCTS"),
}
_REFUSED = Requirement(())


def private_metadata_requirement(type_name: str) -> Requirement:
    return PRIVATE_METADATA.get(type_name, _REFUSED)


def field_requirements(type_name: str, field_name: str, description: str | None) -> list[Requirement]:
    """Everything Saleor asks of the caller to resolve ``type_name.field_name``, its description given."""
    found = requirements_in(description)
    if needs_private_metadata_permission(description):
        found.append(private_metadata_requirement(type_name))
    if (unnoted := UNNOTED.get((type_name, field_name))) is not None:
        found.append(unnoted)
    return found
