"""The fraud review queue and the allow and block lists."""
