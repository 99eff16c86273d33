"""Support: tickets tied to orders, with SLAs in business hours, opened by the store and by customers."""
