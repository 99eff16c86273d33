from datetime import timedelta

import pytest

from app.domain.ids import AppId
from app.errors import PermissionDeniedError, SignatureError, UnknownSigningKeyError
from app.saleor.dashboard_token import verify_dashboard_token
from app.saleor.jwks import parse_key_set
from tests.builders import APP_ID, NOW
from tests.fakes.saleor_signer import SaleorSigner


class TestVerifyDashboardToken:
    def test_gives_the_staff_user_of_a_valid_token(self, signer: SaleorSigner) -> None:
        token = signer.dashboard_token(issued_at=NOW.timestamp())
        user = verify_dashboard_token(token, parse_key_set(signer.jwks_text()), app_id=APP_ID, now=NOW)
        assert user.email == "staff@shop.test"
        assert user.user_permissions == {"MANAGE_ORDERS", "MANAGE_PRODUCTS"}
        assert user.permissions == {"MANAGE_ORDERS"}
        assert user.token == token  # kept to call Saleor as this user
        assert token not in repr(user)

    def test_rejects_an_expired_token(self, signer: SaleorSigner) -> None:
        token = signer.dashboard_token(issued_at=NOW.timestamp())
        with pytest.raises(SignatureError, match="expired"):
            verify_dashboard_token(
                token, parse_key_set(signer.jwks_text()), app_id=APP_ID, now=NOW + timedelta(minutes=6)
            )

    def test_rejects_a_token_issued_for_another_app(self, signer: SaleorSigner) -> None:
        token = signer.dashboard_token(issued_at=NOW.timestamp(), app_id="QXBwOjI=")
        with pytest.raises(SignatureError, match="another app"):
            verify_dashboard_token(token, parse_key_set(signer.jwks_text()), app_id=APP_ID, now=NOW)

    def test_reports_a_key_miss_so_the_caller_can_refetch(self, signer: SaleorSigner) -> None:
        token = SaleorSigner(1).dashboard_token(issued_at=NOW.timestamp())
        with pytest.raises(UnknownSigningKeyError):
            verify_dashboard_token(token, parse_key_set(signer.jwks_text()), app_id=APP_ID, now=NOW)

    def test_reports_a_forged_signature_under_a_known_kid_as_a_forgery_not_a_key_miss(
        self, signer: SaleorSigner
    ) -> None:
        forger = SaleorSigner(1)
        forger.kid = signer.kid
        token = forger.dashboard_token(issued_at=NOW.timestamp())
        with pytest.raises(SignatureError, match="does not verify") as caught:
            verify_dashboard_token(token, parse_key_set(signer.jwks_text()), app_id=APP_ID, now=NOW)
        assert not isinstance(caught.value, UnknownSigningKeyError)

    def test_accepts_a_token_that_carries_an_audience(self, signer: SaleorSigner) -> None:
        token = signer.dashboard_token(issued_at=NOW.timestamp(), aud="saleor-ops")
        verify_dashboard_token(token, parse_key_set(signer.jwks_text()), app_id=APP_ID, now=NOW)

    @pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
    def test_rejects_what_does_not_decode(self, signer: SaleorSigner, token: str) -> None:
        with pytest.raises(SignatureError):
            verify_dashboard_token(token, parse_key_set(signer.jwks_text()), app_id=AppId("x"), now=NOW)


class TestStaffUserRequire:
    def test_names_the_missing_permissions(self, signer: SaleorSigner) -> None:
        token = signer.dashboard_token(issued_at=NOW.timestamp(), user_permissions=["MANAGE_PRODUCTS"])
        user = verify_dashboard_token(token, parse_key_set(signer.jwks_text()), app_id=APP_ID, now=NOW)
        user.require("MANAGE_PRODUCTS")
        with pytest.raises(PermissionDeniedError) as caught:
            user.require("MANAGE_ORDERS", "MANAGE_PRODUCTS")
        assert caught.value.missing == ["MANAGE_ORDERS"]
