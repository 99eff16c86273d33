"""Header names Saleor uses (PROTOCOL.md b.1, c.1, e.3); HTTP headers are case-insensitive."""

SALEOR_API_URL = "saleor-api-url"
SALEOR_EVENT = "saleor-event"
SALEOR_SIGNATURE = "saleor-signature"
SALEOR_DOMAIN = "saleor-domain"
SALEOR_SCHEMA_VERSION = "saleor-schema-version"
# The dashboard's AppBridge convention for calls from app pages to the app's backend.
AUTHORIZATION_BEARER = "authorization-bearer"
