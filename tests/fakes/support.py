"""In-memory support ports: tickets, Saleor's orders as a customer request sees them, and a mailbox."""

from __future__ import annotations

from collections import defaultdict
from email.message import EmailMessage

from app.domain.ids import SaleorApiUrl
from app.domain.support.reports import TicketMeasures
from app.domain.support.ticket import Ticket, TicketId
from app.services.ports import MailNotSent, OrderContact, SmtpServer
from app.services.support.model import SlaDue


class InMemoryTicketStore:
    def __init__(self, first_id: int = 1000) -> None:
        self.tickets: defaultdict[SaleorApiUrl, dict[TicketId, Ticket]] = defaultdict(dict)
        self.store_keys: dict[tuple[SaleorApiUrl, str], TicketId] = {}
        self.slas: dict[tuple[SaleorApiUrl, TicketId], tuple[SlaDue, TicketMeasures]] = {}
        self._next = first_id

    async def next_id(self, saleor_api_url: SaleorApiUrl) -> TicketId:
        self._next += 1
        return TicketId(str(self._next))

    async def get(self, saleor_api_url: SaleorApiUrl, ticket_id: TicketId) -> Ticket | None:
        return self.tickets[saleor_api_url].get(ticket_id)

    async def opened_by_store(self, saleor_api_url: SaleorApiUrl, store_key: str) -> Ticket | None:
        ticket_id = self.store_keys.get((saleor_api_url, store_key))
        return None if ticket_id is None else self.tickets[saleor_api_url][ticket_id]

    async def add(self, saleor_api_url: SaleorApiUrl, ticket: Ticket, *, store_key: str | None = None) -> bool:
        if store_key is not None:
            if (saleor_api_url, store_key) in self.store_keys:
                return False
            self.store_keys[(saleor_api_url, store_key)] = ticket.id
        assert ticket.id not in self.tickets[saleor_api_url], f"ticket {ticket.id} is kept already"
        self.tickets[saleor_api_url][ticket.id] = ticket
        return True

    async def save(self, saleor_api_url: SaleorApiUrl, ticket: Ticket) -> None:
        assert ticket.id in self.tickets[saleor_api_url], f"ticket {ticket.id} was never added"
        self.tickets[saleor_api_url][ticket.id] = ticket

    async def get_for_update(self, saleor_api_url: SaleorApiUrl, ticket_id: TicketId) -> Ticket | None:
        return await self.get(saleor_api_url, ticket_id)

    async def set_sla(
        self, saleor_api_url: SaleorApiUrl, ticket_id: TicketId, due: SlaDue, measures: TicketMeasures
    ) -> None:
        assert ticket_id in self.tickets[saleor_api_url], f"ticket {ticket_id} was never added"
        self.slas[(saleor_api_url, ticket_id)] = (due, measures)

    def all(self, saleor_api_url: SaleorApiUrl) -> list[Ticket]:
        return list(self.tickets[saleor_api_url].values())


class FakeOrderLookup:
    """The store's orders by number, as Saleor's ``orders(filter: {numbers})`` finds them."""

    def __init__(self, *orders: OrderContact) -> None:
        self.orders = {order.number: order for order in orders}
        self.asked: list[str] = []

    async def order_by_number(self, number: str) -> OrderContact | None:
        self.asked.append(number)
        return self.orders.get(number)


class FakeMailSender:
    """Keeps what it is given; ``refuse`` makes it fail as a mail server that is down would."""

    def __init__(self) -> None:
        self.sent: list[tuple[SmtpServer, EmailMessage]] = []
        self.refuse: str | None = None

    async def send(self, server: SmtpServer, message: EmailMessage) -> None:
        if self.refuse is not None:
            raise MailNotSent(self.refuse)
        self.sent.append((server, message))
