"""The SLA bench's seeded tickets keep every clock they had before the deadline walk was made faster: a digest of
each ticket's policy and clocks (deadline, stop, state, warning) over the first 2,000 of ``bench.sla_deadlines``."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import datetime, timedelta

from app.domain.support.sla import measure_sla, select_policy
from bench.sla_deadlines import DAYS, START, build_policies, build_teams, build_ticket

# Taken from the walk that converted each start to the team's zone and built clocks as frozen dataclasses.
DIGEST = "8797a8ef0a908461d2b6ba4f4d7ef8c66ed30df8e6cef8cb46d8e4966ddad99e"
OUTCOMES = {"failed": 1730, "on track": 270}


def _text(instant: datetime | None) -> str:
    return "-" if instant is None else instant.isoformat()


def test_the_seeded_tickets_clocks_are_unchanged() -> None:
    rng = random.Random(1)
    teams = [build_policies(hours) for hours in build_teams(rng)]
    work = [(build_ticket(number, rng), rng.choice(teams)) for number in range(2_000)]
    now = START + timedelta(days=DAYS)
    digest, outcomes = hashlib.sha256(), Counter[str]()
    for ticket, policies in work:
        policy = select_policy(policies, ticket)
        assert policy is not None
        sla = measure_sla(ticket, policy, now)
        outcomes["failed" if sla.failed else "on track"] += 1
        digest.update(f"{ticket.id} {sla.policy}\n".encode())
        for clock in sla.clocks:
            line = (
                f"{clock.metric} {_text(clock.started_at)} {clock.target} {_text(clock.deadline)}"
                f" {_text(clock.stopped_at)} {clock.state} {clock.warning}\n"
            )
            digest.update(line.encode())
    assert dict(outcomes) == OUTCOMES
    assert digest.hexdigest() == DIGEST
