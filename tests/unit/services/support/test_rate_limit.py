import pytest

from app.services.support.rate_limit import Rate, SenderLimits, TokenBuckets
from tests.conftest import FakeMonotonic


class TestTokenBuckets:
    def test_a_burst_goes_then_one_more_per_refill(self, monotonic: FakeMonotonic) -> None:
        buckets = TokenBuckets(Rate(2, 60), monotonic=monotonic)
        for _ in range(2):
            assert buckets.wait("a") == 0
            buckets.take("a")
        assert buckets.wait("a") == pytest.approx(60)
        monotonic.value += 45
        assert buckets.wait("a") == pytest.approx(15)
        monotonic.value += 15
        assert buckets.wait("a") == 0
        assert buckets.wait("b") == 0  # another key has its own bucket

    def test_a_bucket_never_holds_more_than_its_burst(self, monotonic: FakeMonotonic) -> None:
        buckets = TokenBuckets(Rate(1, 10), monotonic=monotonic)
        monotonic.value += 10_000
        buckets.take("a")
        assert buckets.wait("a") == pytest.approx(10)

    def test_forgets_the_least_recently_used_keys_beyond_its_bound(self, monotonic: FakeMonotonic) -> None:
        buckets = TokenBuckets(Rate(1, 60), monotonic=monotonic, max_keys=2)
        for key in ("a", "b", "c"):
            buckets.take(key)
        assert buckets.wait("a") == 0
        assert buckets.wait("c") == pytest.approx(60)

    def test_refuses_a_rate_that_admits_nothing(self) -> None:
        with pytest.raises(ValueError, match="burst of at least 1"):
            Rate(0, 60)


class TestSenderLimits:
    def test_an_address_is_limited_across_emails_and_an_email_across_addresses(self, monotonic: FakeMonotonic) -> None:
        limits = SenderLimits(Rate(2, 60), Rate(1, 300), monotonic=monotonic)
        assert limits.admit("10.0.0.1", "a@x.co") == 0
        assert limits.admit("10.0.0.2", "A@X.co ") == pytest.approx(300)  # the same e-mail, written otherwise
        assert limits.admit("10.0.0.1", "b@x.co") == 0
        assert limits.admit("10.0.0.1", "c@x.co") == pytest.approx(60)

    def test_a_refused_request_takes_no_token(self, monotonic: FakeMonotonic) -> None:
        limits = SenderLimits(Rate(1, 60), Rate(5, 300), monotonic=monotonic)
        limits.admit("10.0.0.1", "a@x.co")
        assert limits.admit("10.0.0.1", "b@x.co") > 0
        # b@x.co was refused by the address's bucket: its own still holds all 5.
        assert [limits.admit(f"10.0.1.{n}", "b@x.co") for n in range(6)] == [0, 0, 0, 0, 0, pytest.approx(300)]
