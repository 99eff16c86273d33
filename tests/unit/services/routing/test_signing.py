"""Partner messages' HMAC: what is refused and why."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from app.services.routing.signing import signature, signature_problem, signed_headers

NOW = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
BODY = '{"handOffId":"h1"}'


def test_the_signature_is_hex_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(b"k", f"1700000000.{BODY}".encode(), hashlib.sha256).hexdigest()
    assert signature("k", "1700000000", BODY) == expected
    headers = signed_headers("k", BODY, NOW)
    assert headers["X-Ops-Timestamp"] == str(int(NOW.timestamp()))
    assert headers["X-Ops-Signature"] == signature("k", headers["X-Ops-Timestamp"], BODY)


def test_a_fresh_matching_signature_passes_in_either_case() -> None:
    timestamp = str(int((NOW - timedelta(minutes=4)).timestamp()))
    assert signature_problem("k", timestamp, BODY, signature("k", timestamp, BODY).upper(), NOW) is None


def test_what_is_refused_says_why() -> None:
    fresh = str(int(NOW.timestamp()))
    stale = str(int((NOW - timedelta(minutes=6)).timestamp()))
    ahead = str(int((NOW + timedelta(minutes=6)).timestamp()))
    assert signature_problem("k", fresh, BODY, signature("other", fresh, BODY), NOW) == (
        "X-Ops-Signature does not match the body"
    )
    assert signature_problem("k", fresh, BODY + " ", signature("k", fresh, BODY), NOW) == (
        "X-Ops-Signature does not match the body"
    )
    for old in (stale, ahead):
        assert signature_problem("k", old, BODY, signature("k", old, BODY), NOW) == (
            "X-Ops-Timestamp is more than 5 minutes from now"
        )
    assert signature_problem("k", "yesterday", BODY, "", NOW) == "X-Ops-Timestamp must be Unix seconds"
