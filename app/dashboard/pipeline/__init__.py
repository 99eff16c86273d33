"""Order processing: deliveries and effects waiting, retried or failed."""
