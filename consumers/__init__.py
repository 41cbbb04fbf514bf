"""The bank side: the subscriber SDK and CLI."""
