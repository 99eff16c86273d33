from __future__ import annotations

from app.domain.ids import SaleorApiUrl
from app.graphql.client import GqlSaleorGateway, SaleorClientFactory
from app.saleor.jwks import JwksFetcher
from app.services.ports import AppIdentity


class HttpSaleorAuthority:
    """Asks the installing Saleor to confirm the token (``app { id }``) and serve its JWKS."""

    def __init__(self, clients: SaleorClientFactory, fetcher: JwksFetcher) -> None:
        self._clients = clients
        self._fetcher = fetcher

    async def identify_app(self, saleor_api_url: SaleorApiUrl, token: str) -> AppIdentity:
        # Not installed yet: a 401 here refuses the install, it revokes nothing.
        client = self._clients.client(saleor_api_url, token, track_revocation=False)
        return await GqlSaleorGateway(client).identify_app()

    async def fetch_jwks(self, saleor_api_url: SaleorApiUrl) -> str:
        return await self._fetcher.fetch(saleor_api_url)
