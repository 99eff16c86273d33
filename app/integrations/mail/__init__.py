"""Mail to and from a store's own servers."""
