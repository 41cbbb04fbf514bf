"""The fault suite runs on the integration tier's stack and fixtures."""

from tests.integration.conftest import (  # noqa: F401
    endpoints,
    kafka_settings,
    sample_governance,
)
