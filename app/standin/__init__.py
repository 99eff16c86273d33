"""A Saleor stand-in: enough of Saleor, speaking its exact protocol, to run the app without one.

It keeps a store in memory (``state``), answers the GraphQL queries and
mutations the app sends (``graphql_api`` over ``schema.graphql``, a subset of
Saleor's schema, refusing fields by Saleor's permissions: ``permissions``),
serves its JWKS and signs webhooks with its own RSA key (``signing``), installs
apps from their manifest (``install``) and delivers webhooks rendered from each
app's own subscription queries (``webhooks``).
``facade.StandIn`` ties them together; ``server`` is its ASGI app.

It plays the other side of the protocol, so it imports nothing from the app.
"""
