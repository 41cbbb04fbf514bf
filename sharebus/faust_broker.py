"""The faust app's broker settings from `KafkaSettings`: the same listener, CA and
principal as every other client (faust's aiokafka driver speaks SASL_SSL with SCRAM)."""

from __future__ import annotations

import ssl
from typing import Any

from sharebus.settings import KafkaSettings


def faust_broker(kafka: KafkaSettings) -> dict[str, Any]:
    """`faust.App` keyword arguments: `broker`, and `broker_credentials` when secured."""
    import faust

    kwargs: dict[str, Any] = {"broker": f"kafka://{kafka.bootstrap}"}
    context = None
    if kafka.uses_ssl:
        cafile = str(kafka.ssl_ca_location) if kafka.ssl_ca_location else None
        context = ssl.create_default_context(purpose=ssl.Purpose.SERVER_AUTH, cafile=cafile)
    if kafka.uses_sasl:
        kwargs["broker_credentials"] = faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.librdkafka()["sasl.password"],
            ssl_context=context,
            mechanism=kafka.sasl_mechanism,
        )
    elif context is not None:
        kwargs["broker_credentials"] = faust.SSLCredentials(context)
    return kwargs
