"""Support tickets tied to orders (issue 14, DOMAIN.md §5): Zendesk's status rules, SLA policies measured in
the team's business hours, and the tickets the store opens itself. Pure: ``now`` is always a parameter."""
