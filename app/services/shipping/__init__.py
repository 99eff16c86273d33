"""Shipping's imperative shell: rate tables and settings loaded through ports, live carrier quotes,
the options shown at checkout and the service chosen for each order (the pure rules are in
``app.domain.shipping``)."""
