"""The faust app's broker settings from `KafkaSettings`: the same listener, CA and
principal as every other client (faust's aiokafka driver speaks SASL_SSL with SCRAM),
and a check that this principal may run the app at all."""

from __future__ import annotations

import ssl
from typing import Any

from foundation.kafka_errors import KafkaAuthError, kafka_error, refusal
from foundation.settings import KafkaSettings


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


def check_can_run(kafka: KafkaSettings, app_id: str, timeout: float = 30.0) -> None:
    """Fail in one line, before faust starts, when this principal may not create the
    app's own topics (faust would otherwise crash with a traceback): a dry-run create of
    faust's leader topic, which the broker authorizes before anything else."""
    from confluent_kafka.admin import AdminClient, NewTopic

    leader = f"{app_id}-__assignor-__leader"
    admin = AdminClient(kafka.librdkafka())
    futures = admin.create_topics([NewTopic(leader, 1, 1)], validate_only=True)
    try:
        futures[leader].result(timeout=timeout)
    except Exception as exc:
        line = refusal(kafka_error(exc), kafka.principal, "create", leader)
        if line is not None:
            raise KafkaAuthError(f"{line}: is the app id '{app_id}' one its ACLs cover?") from None
