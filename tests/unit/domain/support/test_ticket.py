from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.ids import SaleorId
from app.domain.support.model import Channel, Priority, StoreReason
from app.domain.support.store import DEFAULT_PRIORITY, open_store_ticket, reason_tag, store_ticket_key
from app.domain.support.ticket import (
    AgentReplied,
    Assigned,
    Author,
    CauseCleared,
    CustomerReplied,
    NoteAdded,
    NotificationKind,
    OrderLinked,
    PriorityChanged,
    Requester,
    SolvedTicketClosed,
    Status,
    StatusChange,
    StatusSet,
    TagsChanged,
    Ticket,
    TicketClosed,
    TicketEvent,
    TicketId,
    TicketRefused,
    apply_ticket_event,
    open_follow_up,
    open_ticket,
    tickets_due_to_close,
)
from tests.unit.domain.support.builders import make_ticket

OPENED = datetime(2026, 10, 5, 14, tzinfo=UTC)
LATER = OPENED + timedelta(hours=1)
ORDER = SaleorId("T3JkZXI6MQ==")

EVENTS: dict[str, TicketEvent] = {
    "customer replies": CustomerReplied("Any news?"),
    "agent replies": AgentReplied("alice", "Looking into it."),
    "agent replies, pending": AgentReplied("alice", "Can you send a photo?", Status.PENDING),
    "agent replies, solved": AgentReplied("alice", "Refunded.", Status.SOLVED),
    "note": NoteAdded("alice", "Carrier says Tuesday."),
    "assign bob": Assigned("bob"),
    "unassign": Assigned(None),
    "set new": StatusSet(Status.NEW),
    "set open": StatusSet(Status.OPEN),
    "set pending": StatusSet(Status.PENDING),
    "set on-hold": StatusSet(Status.ON_HOLD),
    "set solved": StatusSet(Status.SOLVED),
    "set closed": StatusSet(Status.CLOSED),
    "priority": PriorityChanged(Priority.URGENT),
    "tags": TagsChanged(added=frozenset({"vip"})),
    "link order": OrderLinked(SaleorId("T3JkZXI6Mg==")),
    "auto-close": SolvedTicketClosed(),
    "cause cleared": CauseCleared(StoreReason.HELD_FOR_REVIEW, "The order was approved."),
}

N, OP, P, H, S, C, R = Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED, None
# The status after each event (columns in EVENTS' order) for an assigned store ticket in each status; R: refused.
TABLE: dict[Status, tuple[Status | None, ...]] = {
    # customer, agent, agent+pending, agent+solved, note, assign, unassign, set new/open/pending/on-hold/solved/closed,
    # priority, tags, link order, auto-close, cause cleared
    Status.NEW: (N, OP, P, S, N, OP, N, N, OP, P, H, S, R, N, N, N, R, C),
    Status.OPEN: (OP, OP, P, S, OP, OP, OP, R, OP, P, H, S, R, OP, OP, OP, R, C),
    Status.PENDING: (OP, P, P, S, P, P, P, R, OP, P, H, S, R, P, P, P, R, C),
    Status.ON_HOLD: (OP, H, P, S, H, H, H, R, OP, P, H, S, R, H, H, H, R, C),
    Status.SOLVED: (OP, S, P, S, S, S, R, R, OP, P, H, S, R, S, S, S, C, C),
    Status.CLOSED: (R, R, R, R, R, R, R, R, R, R, R, R, R, R, R, R, R, R),
}


def store_ticket(status: Status, *, assignee: str | None = "alice") -> Ticket:
    ticket = open_store_ticket(
        TicketId("T-9"),
        order_id=ORDER,
        order_number="1001",
        reason=StoreReason.HELD_FOR_REVIEW,
        requester=Requester("ana@example.com"),
        details="Risk score 72: billing and shipping countries differ.",
        now=OPENED,
    )
    history = ticket.history if status is Status.NEW else (*ticket.history, StatusChange(status, OPENED))
    return replace(ticket, status=status, assignee=assignee, history=history)


CASES = [
    pytest.param(status, name, expected, id=f"{status}-{name}")
    for status, row in TABLE.items()
    for name, expected in zip(EVENTS, row, strict=True)
]


class TestStatusMachine:
    @pytest.mark.parametrize(("status", "event_name", "expected"), CASES)
    def test_every_status_and_event(self, status: Status, event_name: str, expected: Status | None) -> None:
        ticket = store_ticket(status)
        if expected is None:
            with pytest.raises(TicketRefused):
                apply_ticket_event(ticket, EVENTS[event_name], LATER)
            return
        changed, _ = apply_ticket_event(ticket, EVENTS[event_name], LATER)
        assert changed.status is expected
        assert changed.updated_at == LATER
        if expected is not status:
            assert changed.history[-1] == StatusChange(expected, LATER)
        else:
            assert changed.history == ticket.history

    def test_any_change_to_a_closed_ticket_says_it_is_closed(self) -> None:
        with pytest.raises(TicketClosed, match="follow-up"):
            apply_ticket_event(store_ticket(Status.CLOSED), CustomerReplied("Hello?"), LATER)

    @pytest.mark.parametrize("status", [Status.NEW, Status.OPEN, Status.PENDING])
    def test_solving_needs_an_assignee(self, status: Status) -> None:
        with pytest.raises(TicketRefused, match="assignee"):
            apply_ticket_event(store_ticket(status, assignee=None), StatusSet(Status.SOLVED), LATER)
        with pytest.raises(TicketRefused, match="assignee"):
            apply_ticket_event(store_ticket(status, assignee=None), AgentReplied("al", "Done", Status.SOLVED), LATER)

    def test_an_event_before_the_last_change_is_refused(self) -> None:
        with pytest.raises(TicketRefused, match="before"):
            apply_ticket_event(make_ticket(at=OPENED), NoteAdded("al", "x"), OPENED - timedelta(seconds=1))

    def test_a_naive_time_is_refused(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            apply_ticket_event(make_ticket(), NoteAdded("al", "x"), datetime(2026, 10, 5))  # noqa: DTZ001


class TestThreadAndNotifications:
    def test_an_agent_reply_is_public_and_goes_to_the_requester(self) -> None:
        changed, sent = apply_ticket_event(make_ticket(), AgentReplied("alice", "On its way."), LATER)
        assert changed.thread[-1].public
        assert changed.thread[-1].author is Author.AGENT
        assert [(n.kind, n.recipient) for n in sent] == [(NotificationKind.REPLY_TO_REQUESTER, "ana@example.com")]

    def test_a_note_is_internal_and_sends_nothing(self) -> None:
        changed, sent = apply_ticket_event(make_ticket(), NoteAdded("alice", "Carrier called."), LATER)
        assert not changed.thread[-1].public
        assert sent == ()

    def test_a_customer_reply_tells_the_assignee(self) -> None:
        assigned, _ = apply_ticket_event(make_ticket(), Assigned("alice"), LATER)
        _, sent = apply_ticket_event(assigned, CustomerReplied("Any news?"), LATER)
        assert [(n.kind, n.recipient) for n in sent] == [(NotificationKind.CUSTOMER_REPLIED, "alice")]

    def test_an_unassigned_customer_reply_tells_nobody(self) -> None:
        assert apply_ticket_event(make_ticket(), CustomerReplied("Any news?"), LATER)[1] == ()

    def test_assigning_tells_the_new_assignee(self) -> None:
        _, sent = apply_ticket_event(make_ticket(), Assigned("bob"), LATER)
        assert [(n.kind, n.recipient) for n in sent] == [(NotificationKind.ASSIGNED, "bob")]

    def test_tags_are_one_lower_case_word(self) -> None:
        changed, _ = apply_ticket_event(
            make_ticket(tags=("Late",)), TagsChanged(frozenset({"VIP"}), frozenset({"late"})), LATER
        )
        assert changed.tags == {"vip"}
        with pytest.raises(ValueError, match="one word"):
            apply_ticket_event(make_ticket(), TagsChanged(frozenset({"two words"})), LATER)

    def test_assigning_the_same_assignee_again_changes_nothing(self) -> None:
        assigned, _ = apply_ticket_event(make_ticket(), Assigned("bob"), LATER)
        again, sent = apply_ticket_event(assigned, Assigned("bob"), LATER)
        assert again.history == assigned.history
        assert sent == ()

    def test_linking_an_order_twice_keeps_one(self) -> None:
        once, _ = apply_ticket_event(make_ticket(), OrderLinked(ORDER), LATER)
        twice, _ = apply_ticket_event(once, OrderLinked(ORDER), LATER)
        assert twice.order_ids == (ORDER,)


class TestClosing:
    def solved(self, at: datetime) -> Ticket:
        ticket = store_ticket(Status.OPEN)
        return apply_ticket_event(ticket, StatusSet(Status.SOLVED), at)[0]

    def test_solved_tickets_close_after_four_days(self) -> None:
        solved = self.solved(LATER)
        assert tickets_due_to_close([solved], LATER + timedelta(days=4) - timedelta(seconds=1)) == []
        assert tickets_due_to_close([solved], LATER + timedelta(days=4)) == [solved]

    def test_the_delay_is_configurable_up_to_28_days(self) -> None:
        solved = self.solved(LATER)
        assert tickets_due_to_close([solved], LATER + timedelta(days=1), after=timedelta(days=1)) == [solved]
        with pytest.raises(ValueError, match="28 days"):
            tickets_due_to_close([solved], LATER, after=timedelta(days=29))

    def test_a_reopened_ticket_is_not_due(self) -> None:
        reopened, _ = apply_ticket_event(self.solved(LATER), CustomerReplied("Still broken"), LATER)
        assert tickets_due_to_close([reopened, store_ticket(Status.OPEN)], LATER + timedelta(days=10)) == []

    def test_the_clock_counts_from_the_last_solve(self) -> None:
        reopened, _ = apply_ticket_event(self.solved(LATER), CustomerReplied("Still broken"), LATER)
        again, _ = apply_ticket_event(reopened, StatusSet(Status.SOLVED), LATER + timedelta(days=3))
        assert tickets_due_to_close([again], LATER + timedelta(days=5)) == []

    def test_a_follow_up_is_a_new_ticket_linked_to_the_closed_one(self) -> None:
        closed, _ = apply_ticket_event(self.solved(LATER), SolvedTicketClosed(), LATER + timedelta(days=4))
        follow_up = open_follow_up(closed, TicketId("T-10"), body="It broke again.", now=LATER + timedelta(days=9))
        assert follow_up.follow_up_of == closed.id
        assert follow_up.status is Status.NEW
        assert follow_up.order_ids == closed.order_ids
        assert follow_up.subject.startswith("Re: ")
        assert follow_up.store_reason is None
        assert follow_up.channel is Channel.EMAIL

    def test_only_a_closed_ticket_gets_a_follow_up(self) -> None:
        with pytest.raises(TicketRefused, match="closed"):
            open_follow_up(store_ticket(Status.SOLVED), TicketId("T-10"), body="x", now=LATER)


class TestStoreTickets:
    def test_one_ticket_per_order_and_reason(self) -> None:
        key = store_ticket_key(ORDER, StoreReason.HELD_FOR_REVIEW)
        assert key == store_ticket_key(ORDER, StoreReason.HELD_FOR_REVIEW)
        assert key != store_ticket_key(ORDER, StoreReason.PROMISE_AT_RISK)
        assert key != store_ticket_key(SaleorId("T3JkZXI6Mg=="), StoreReason.HELD_FOR_REVIEW)

    def test_the_reason_gives_tag_and_priority(self) -> None:
        ticket = store_ticket(Status.NEW)
        assert ticket.tags == {reason_tag(StoreReason.HELD_FOR_REVIEW)}
        assert ticket.priority is DEFAULT_PRIORITY[StoreReason.HELD_FOR_REVIEW]
        assert ticket.subject == "Order 1001 is held for review"

    def test_a_cleared_cause_closes_a_ticket_nobody_wrote_in(self) -> None:
        closed, sent = apply_ticket_event(store_ticket(Status.OPEN), EVENTS["cause cleared"], LATER)
        assert closed.status is Status.CLOSED
        assert closed.thread[-1].author is Author.STORE
        assert not closed.thread[-1].public
        assert sent == ()

    def test_a_cleared_cause_leaves_a_conversation_to_its_people(self) -> None:
        talking, _ = apply_ticket_event(store_ticket(Status.OPEN), CustomerReplied("Why is it held?"), LATER)
        after, sent = apply_ticket_event(talking, EVENTS["cause cleared"], LATER)
        assert after.status is Status.OPEN
        assert [(n.kind, n.recipient) for n in sent] == [(NotificationKind.CAUSE_CLEARED, "alice")]

    def test_a_cleared_cause_on_an_unassigned_conversation_tells_nobody(self) -> None:
        talking, _ = apply_ticket_event(store_ticket(Status.NEW, assignee=None), CustomerReplied("Why?"), LATER)
        after, sent = apply_ticket_event(talking, EVENTS["cause cleared"], LATER)
        assert after.status is Status.NEW
        assert sent == ()

    def test_another_reason_clearing_changes_nothing(self) -> None:
        with pytest.raises(TicketRefused, match="did not open"):
            apply_ticket_event(store_ticket(Status.OPEN), CauseCleared(StoreReason.PROMISE_AT_RISK, "x"), LATER)

    def test_a_customers_ticket_has_no_cause_to_clear(self) -> None:
        with pytest.raises(TicketRefused):
            apply_ticket_event(make_ticket(), EVENTS["cause cleared"], LATER)


class TestOpening:
    @pytest.mark.parametrize("email", ["", "ana", "ana@", "@example.com", "ana@localhost"])
    def test_a_requester_needs_an_email_address(self, email: str) -> None:
        with pytest.raises(ValueError, match="e-mail"):
            Requester(email)

    def test_a_ticket_needs_a_subject(self) -> None:
        with pytest.raises(ValueError, match="subject"):
            open_ticket(
                TicketId("T-2"),
                requester=Requester("ana@example.com"),
                subject="  ",
                description="x",
                channel=Channel.EMAIL,
                now=OPENED,
            )

    @pytest.mark.parametrize(
        ("channel", "reason"),
        [
            pytest.param(Channel.STORE, None, id="store without reason"),
            pytest.param(Channel.EMAIL, StoreReason.EFFECT_FAILED, id="reason on an e-mail"),
        ],
    )
    def test_a_store_reason_belongs_to_store_tickets_only(self, channel: Channel, reason: StoreReason | None) -> None:
        with pytest.raises(ValueError, match="reason"):
            open_ticket(
                TicketId("T-2"),
                requester=Requester("ana@example.com"),
                subject="s",
                description="x",
                channel=channel,
                now=OPENED,
                store_reason=reason,
            )

    def test_a_store_ticket_needs_its_order(self) -> None:
        with pytest.raises(ValueError, match="order"):
            store_ticket_key(SaleorId(""), StoreReason.EFFECT_FAILED)
