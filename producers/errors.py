"""Errors of the agency side."""

from foundation.errors import SharebusError


class PublishError(SharebusError):
    """A record was refused before sending, or its delivery failed."""
