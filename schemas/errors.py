"""Errors of the data contract."""

from foundation.errors import SharebusError


class SchemaError(SharebusError):
    """A schema or a record does not fit the contract."""


class UnknownCategoryError(SchemaError):
    """The catalog has no such category."""


class RegistryError(SchemaError):
    """The schema registry refused a request or could not be reached."""


class DecodeError(SchemaError):
    """Bytes on a topic are not a record this bus can read."""


class RegistryUnavailable(RegistryError):
    """The schema registry could not be reached or failed (5xx): a transient state to wait
    out, never a reason to drop or deny a record."""


class UnknownSchemaError(DecodeError):
    """The registry does not know the schema id a record is framed with."""
