"""Kafka's refusals in one line: who was refused, what, and where.

librdkafka reports a failed SASL login through the error callback and then retries for
ever, and an ACL refusal as a bare code; both become a `KafkaAuthError` naming the
principal and the resource, so a command stops at once with that line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from confluent_kafka import KafkaError, KafkaException

from foundation.errors import SharebusError

if TYPE_CHECKING:
    from foundation.settings import KafkaSettings

log = logging.getLogger("sharebus.kafka")
# librdkafka's own log goes here, not to stderr: a refused login would print a line per
# retry. A process that configures logging (the worker) still sees it.
LIBRDKAFKA_LOG = logging.getLogger("sharebus.librdkafka")
LIBRDKAFKA_LOG.addHandler(logging.NullHandler())

# A TLS handshake the broker refused (no or a wrong certificate) will not pass on retry.
AUTHENTICATION = {
    KafkaError._AUTHENTICATION,
    KafkaError.SASL_AUTHENTICATION_FAILED,
    KafkaError._SSL,
}
AUTHORIZATION = {
    KafkaError.TOPIC_AUTHORIZATION_FAILED: "topic",
    KafkaError.GROUP_AUTHORIZATION_FAILED: "consumer group",
    KafkaError.CLUSTER_AUTHORIZATION_FAILED: "cluster",
    KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "transactional id",
}


_TLS_REFUSED = re.compile(r"ssl/tls alert|certificate verify failed")
# A connection that dropped during the login is reported as an authentication error
# ("SASL SCRAM-SHA-512 mechanism handshake failed: Local: Broker transport failure:
# broker's supported mechanisms: (n/a)"), though no credential was judged: librdkafka
# connects again, and a busy broker answers the next time.
_DROPPED_DURING_LOGIN = re.compile(r"Broker transport failure|Connection reset|Disconnected")


class KafkaAuthError(SharebusError):
    """Kafka did not let this principal in, or not do this."""


def cause(exc: BaseException) -> str:
    """librdkafka's own words, without the KafkaError{...} wrapping."""
    err = kafka_error(exc)
    if err is not None:
        return str(err.str())
    return str(exc) or type(exc).__name__


def kafka_error(exc: BaseException) -> KafkaError | None:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    return None


def refusal(err: KafkaError | None, principal: str, action: str, resource: str) -> str | None:
    """The one line for an authentication or authorization error; None for any other."""
    if err is None:
        return None
    code = err.code()
    if code in AUTHENTICATION:
        return f"Kafka refused to authenticate {principal}: {_reason(err)}"
    kind = AUTHORIZATION.get(code)
    if kind is not None:
        return f"{principal} is not allowed to {action} {kind} {resource}"
    return None


def raise_on_auth_failure(principal: str, bootstrap: str) -> Callable[[KafkaError], None]:
    """An `error_cb` that stops the client on a failed login instead of retrying for ever.

    confluent-kafka re-raises what a callback raises from the poll, flush or consume
    that ran it, so the caller sees the one line. A refused read or write is said by the
    call that was refused (it knows the resource); other errors are logged once here.
    """

    said: set[str] = set()

    def on_error(err: KafkaError) -> None:
        if err.code() in AUTHENTICATION and not _DROPPED_DURING_LOGIN.search(str(err.str())):
            line = refusal(err, principal, "connect to", bootstrap)
            raise KafkaAuthError(f"{line} (at {bootstrap})")
        if _TLS_REFUSED.search(str(err.str())):
            # A TLS alert from the broker, or its certificate not trusted: no retry helps.
            raise KafkaAuthError(
                f"TLS with Kafka failed for {principal}: {_reason(err)} (at {bootstrap})"
            )
        # "all brokers down" only repeats the error that brought them down.
        quiet = err.code() in AUTHORIZATION or err.code() == KafkaError._ALL_BROKERS_DOWN
        text = _plain(err)
        if not quiet and not err.fatal() and text not in said:
            # Once per client: librdkafka reports the same failure on every retry.
            said.add(text)
            log.warning("kafka: %s", text)

    return on_error


def _reason(err: KafkaError) -> str:
    # "sasl_ssl://host:port/bootstrap: SASL authentication error: <broker's words> (after
    # 314ms in state AUTH_REQ)": the broker's words are the cause.
    return _plain(err).rsplit("error: ", 1)[-1]


def _plain(err: KafkaError) -> str:
    """librdkafka's words without the timing it adds on every retry."""
    return re.sub(r"\s*\(after \d+ms in state \w+\)$", "", str(err.str()))


def check_readable(
    settings: KafkaSettings, topics: Iterable[str], timeout: float = 10.0
) -> list[str]:
    """Raise the one line when this principal may not even see one of `topics`; else the
    ones the cluster does not have.

    Readers that wait for a topic to appear would otherwise wait out their timeout and
    say only that it did not come: asked by name, the broker says it is refused.
    """
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(settings.librdkafka())
    missing = []
    for topic in topics:
        meta = admin.list_topics(topic, timeout=timeout).topics.get(topic)
        line = refusal(meta.error if meta else None, settings.principal, "read", topic)
        if line is not None:
            raise KafkaAuthError(line)
        if meta is None or meta.error is not None:
            missing.append(topic)
    return missing
