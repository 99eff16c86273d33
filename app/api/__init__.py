"""The app's HTTP API for a store's other systems, authenticated by the store's API keys."""
