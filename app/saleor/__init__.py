"""The Saleor app protocol: manifest, registration, JWKS, webhook and dashboard-token verification."""
