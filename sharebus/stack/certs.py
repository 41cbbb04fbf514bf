"""The local stack's own certificate authority and broker certificate.

Made once per stack folder with the `cryptography` package (PEM, which Kafka reads
directly as `ssl.keystore.type=PEM`); clients trust `ca.pem`. The broker's certificate
serves the client listener and authenticates the broker to its controller listener
(mutual TLS): its subject is the only principal that listener lets in.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from foundation.secrets import write_private

BROKER_CN = "sharebus-broker"
# Kafka's default SSL principal is the certificate's full subject.
BROKER_PRINCIPAL = f"User:CN={BROKER_CN}"
VALID_DAYS = 825


@dataclass(frozen=True)
class StackCerts:
    ca: Path
    ca_key: Path
    broker: Path

    @classmethod
    def under(cls, folder: Path) -> StackCerts:
        return cls(folder / "ca.pem", folder / "ca-key.pem", folder / "broker.pem")

    def exist(self) -> bool:
        return self.ca.exists() and self.ca_key.exists() and self.broker.exists()

    def make(self) -> None:
        """Make the CA and the broker certificate unless both are there already."""
        if self.exist():
            return
        now = dt.datetime.now(dt.UTC)
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sharebus local CA")])
        ca_cert = (
            _builder(ca_name, ca_name, ca_key, now)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, BROKER_CN)])
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        cert = (
            _builder(subject, ca_name, key, now)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        write_private(self.ca_key, _private_pem(ca_key))
        # Kafka's PEM keystore: the private key (PKCS#8) followed by the certificate chain.
        chain = cert.public_bytes(pem).decode() + ca_cert.public_bytes(pem).decode()
        write_private(self.broker, _private_pem(key) + chain)
        self.ca.write_bytes(ca_cert.public_bytes(pem))


def _builder(
    subject: x509.Name, issuer: x509.Name, key: rsa.RSAPrivateKey, now: dt.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
    )


def _private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
