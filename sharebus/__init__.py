"""sharebus: the top layer — the CLI of every party, the local stack, provisioning, the demo."""

__version__ = "0.1.0"
