"""Errors of governance records."""

from sharebus.errors import SharebusError


class GovernanceError(SharebusError):
    """A governance record is invalid or cannot be applied."""
