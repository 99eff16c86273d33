import pytest

from app.domain.inventory import LIFO_NOTICE, CostingPolicy, Method


class TestMethod:
    @pytest.mark.parametrize(
        ("method", "allowed"),
        [
            pytest.param(Method.FIFO, True, id="fifo"),
            pytest.param(Method.LIFO, False, id="lifo"),
            pytest.param(Method.AVCO, True, id="avco"),
        ],
    )
    def test_only_lifo_is_not_allowed_by_ifrs(self, method: Method, allowed: bool) -> None:
        assert method.ifrs_allowed is allowed
        assert (method.ifrs_notice is None) is allowed

    def test_lifo_notice_says_ifrs_does_not_allow_it(self) -> None:
        assert Method.LIFO.ifrs_notice == LIFO_NOTICE
        assert "not allowed by IFRS" in LIFO_NOTICE


class TestCostingPolicy:
    def test_defaults_to_fifo(self) -> None:
        assert CostingPolicy().method_for("shoes") is Method.FIFO
        assert CostingPolicy().method_for(None) is Method.FIFO

    def test_a_product_type_can_override_the_installation_method(self) -> None:
        policy = CostingPolicy(Method.AVCO, {"wine": Method.FIFO})
        assert policy.method_for("wine") is Method.FIFO
        assert policy.method_for("shoes") is Method.AVCO

    def test_shows_the_ifrs_notice_once_when_any_product_type_uses_lifo(self) -> None:
        assert CostingPolicy().notices() == ()
        policy = CostingPolicy(Method.LIFO, {"wine": Method.LIFO, "shoes": Method.FIFO})
        assert policy.notices() == (LIFO_NOTICE,)

    def test_lists_the_product_types_whose_method_a_new_policy_changes(self) -> None:
        old = CostingPolicy(Method.FIFO, {"wine": Method.AVCO})
        new = CostingPolicy(Method.AVCO, {"tea": Method.FIFO})
        assert old.changes(new, ["wine", "tea", "shoes"]) == {"shoes": (Method.FIFO, Method.AVCO)}
