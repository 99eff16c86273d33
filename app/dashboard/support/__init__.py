"""Support: inbox and tickets, macros, e-mail settings, reports and the order page's ticket card."""
