"""Partner messages signed both ways: HMAC-SHA256, hex, over ``f"{timestamp}.{body}"`` with the
partner's secret; the timestamp is Unix seconds, sent beside the signature."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

TIMESTAMP_HEADER = "X-Ops-Timestamp"
SIGNATURE_HEADER = "X-Ops-Signature"
FRESH_FOR = timedelta(minutes=5)


def signature(secret: str, timestamp: str, body: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: str, now: datetime) -> dict[str, str]:
    timestamp = str(int(now.timestamp()))
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def signature_problem(secret: str, timestamp: str, body: str, given: str, now: datetime) -> str | None:
    """Why a signed request is refused, or None: a timestamp that is not Unix seconds or is more than
    ``FRESH_FOR`` from now (either way), or a signature that does not match."""
    try:
        sent = datetime.fromtimestamp(int(timestamp), now.tzinfo)
    except (ValueError, OverflowError, OSError):
        return f"{TIMESTAMP_HEADER} must be Unix seconds"
    if abs(now - sent) > FRESH_FOR:
        return f"{TIMESTAMP_HEADER} is more than {int(FRESH_FOR.total_seconds() // 60)} minutes from now"
    if not hmac.compare_digest(signature(secret, timestamp, body), given.strip().lower()):
        return f"{SIGNATURE_HEADER} does not match the body"
    return None
