"""Errors of governance records, masks and row filters."""

from foundation.errors import SharebusError


class GovernanceError(SharebusError):
    """A governance record is invalid or cannot be applied."""


class MaskError(GovernanceError):
    """A mask cannot be applied to a value (the decision turns it into a deny)."""


class FilterError(GovernanceError):
    """A row filter does not compile, or fails or returns a non-bool when evaluated."""


class ProfileUnknownError(FilterError):
    """A row filter reads `enterprise` but the enterprise's profile is not known."""
