import pytest

from tests.builders import NOW
from tests.fakes.saleor_signer import SaleorSigner


@pytest.fixture
def staff_headers(signer: SaleorSigner):
    """Headers an app page sends: the dashboard token of a staff user with these permissions."""

    def headers(*user_permissions: str) -> dict[str, str]:
        token = signer.dashboard_token(
            issued_at=NOW.timestamp(), user_permissions=list(user_permissions or ("MANAGE_ORDERS", "MANAGE_APPS"))
        )
        return {"authorization-bearer": token, "saleor-api-url": "https://shop.test/graphql/"}

    return headers
