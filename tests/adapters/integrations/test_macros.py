"""Macros filled in by Jinja2's sandbox: the variables listed and nothing else, with errors that name them."""

import pytest

from app.domain.support.macros import SAMPLE_VALUES, MacroOrder, MacroRefused, macro_values
from app.integrations.macros import render_macro

TICKET_VALUES = macro_values(
    ticket_number="17",
    subject="Where is my parcel?",
    requester="ada@example.com",
    agent="sam@shop.test",
    order=MacroOrder("1042", "Ada Lovelace", None, "https://track.example/1Z"),
)


def test_a_macro_is_filled_in_with_the_tickets_values_as_plain_text() -> None:
    body = (
        "Hi {{ customer.name }} <{{ customer.email }}>,\n"
        "order #{{ order.number }} is on its way: {{ order.tracking_url }}\n"
        "Ticket {{ ticket.number }} · {{ agent.name }}"
    )
    assert render_macro(body, TICKET_VALUES) == (
        "Hi Ada Lovelace <ada@example.com>,\norder #1042 is on its way: https://track.example/1Z\n"
        "Ticket 17 · sam@shop.test"
    )


def test_filters_and_conditions_work_on_the_values() -> None:
    body = "{% if order.tracking_url is defined %}Track it{% else %}Soon{% endif %}: {{ customer.name | upper }}"
    assert render_macro(body, TICKET_VALUES) == "Track it: ADA LOVELACE"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{{ order.numbr }}", "{{ order.numbr }} is not a macro variable; order has order.number, "),
        ("{{ shop.name }}", "{{ shop }} is not a macro variable; macros know {{ order.number }}"),
        ("{{ order }}", "{{ order }} is not a value: name one of order.number"),
        ("{{ order.number", "The macro cannot be read at line 1: unexpected end of template"),
        ("{% for x in order %}{% endfor %}", "The macro cannot be filled in"),
    ],
)
def test_an_unknown_variable_or_a_broken_template_is_refused_naming_it(body: str, reason: str) -> None:
    with pytest.raises(MacroRefused) as refused:
        render_macro(body, SAMPLE_VALUES)
    assert str(refused.value).startswith(reason)


def test_a_variable_the_ticket_has_no_value_for_is_refused_not_left_blank() -> None:
    no_order = macro_values(ticket_number="3", subject="Hi", requester="a@b.example", agent="sam@shop.test", order=None)
    with pytest.raises(MacroRefused, match=r"\{\{ order.number \}\} has no value for this ticket"):
        render_macro("Order {{ order.number }}", no_order)
    assert render_macro("Dear {{ customer.email }}", no_order) == "Dear a@b.example"  # the requester's


def test_a_tracking_number_that_is_no_link_gives_no_tracking_link() -> None:
    values = macro_values(
        ticket_number="3",
        subject="Hi",
        requester="a@b.example",
        agent="s@shop.test",
        order=MacroOrder("9", None, None, "1Z999"),
    )
    assert render_macro("{{ order.tracking_number }}", values) == "1Z999"
    with pytest.raises(MacroRefused, match="tracking_url }} has no value"):
        render_macro("{{ order.tracking_url }}", values)


@pytest.mark.parametrize(
    "body",
    [
        "{{ order.__class__ }}",
        "{{ order._values }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ range(10) }}",
        "{{ lipsum(5) }}",
        "{{ order.number * 1000000000 }}",
        "{{ 2 ** 100000 }}",
        "{{ cycler }}",
    ],
)
def test_the_sandbox_refuses_anything_beyond_the_variables(body: str) -> None:
    with pytest.raises(MacroRefused):
        render_macro(body, SAMPLE_VALUES)
