"""sharebus: the operator's side — CLI, settings, the local stack, provisioning."""

__version__ = "0.1.0"
