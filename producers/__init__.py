"""The agency side: the publisher SDK and CLI."""
