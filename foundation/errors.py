"""The root of every error sharebus raises on purpose.

Each package subclasses it; the CLI turns any of them into a one-line cause and a
non-zero exit, without a traceback.
"""


class SharebusError(Exception):
    """Something the user can act on went wrong."""


class ConfigError(SharebusError):
    """A setting is missing or has a value that cannot work."""


class StackError(SharebusError):
    """The local Kafka/registry stack could not be started, probed or stopped."""


class UsageError(SharebusError):
    """A command was called with arguments that cannot work (exit code 2)."""
