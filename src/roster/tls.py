"""A self-signed certificate for `roster serve --tls-self-signed` (development and tests:
customerio-python and customerio-node speak HTTPS only), and the checks `roster serve` makes of
a certificate and key it is given before it starts."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class TlsFilesRefused(ValueError):
    """The certificate or key given to `roster serve` cannot be served with; the message says why
    and what to do."""


def _read(path: Path, what: str, option: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TlsFilesRefused(
            f"the TLS {what} {path} does not exist: give the PEM file's path with {option}"
        ) from None
    except IsADirectoryError:
        raise TlsFilesRefused(
            f"the TLS {what} {path} is a folder: give the PEM file's path with {option}"
        ) from None
    except OSError as error:
        raise TlsFilesRefused(
            f"cannot read the TLS {what} {path} ({error.strerror}): "
            f"let the user roster runs as read it"
        ) from None


def check_pair(cert_path: Path, key_path: Path) -> None:
    """Raise TlsFilesRefused unless `cert_path` holds a PEM certificate and `key_path` the
    unencrypted PEM private key of that certificate: found now, this is one line at start rather
    than a traceback from the server's first TLS handshake setup."""
    cert_pem = _read(cert_path, "certificate", "--tls-cert")
    key_pem = _read(key_path, "private key", "--tls-key")
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise TlsFilesRefused(
            f"{cert_path} is not a PEM certificate (it should start with "
            "-----BEGIN CERTIFICATE-----): give the certificate's PEM file with --tls-cert"
        ) from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:  # encrypted: uvicorn would ask for the password on the terminal
        raise TlsFilesRefused(
            f"the private key {key_path} is encrypted: give an unencrypted copy with --tls-key "
            f"(openssl pkey -in {key_path} -out KEY.pem)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise TlsFilesRefused(
            f"{key_path} is not a PEM private key (it should start with -----BEGIN ... "
            "PRIVATE KEY-----): give the key's PEM file with --tls-key"
        ) from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if certificate.public_key().public_bytes(
        serialization.Encoding.DER, spki
    ) != key.public_key().public_bytes(serialization.Encoding.DER, spki):
        raise TlsFilesRefused(
            f"the certificate {cert_path} does not match the private key {key_path}: "
            "give the key the certificate was made for"
        )
    try:  # what the server itself will do with them
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert_path, key_path)
    except ssl.SSLError as error:
        raise TlsFilesRefused(
            f"the certificate {cert_path} and key {key_path} cannot be served with "
            f"({error.reason or error}): give another certificate and key"
        ) from None


def self_signed(folder: Path, host: str) -> tuple[Path, Path]:
    """(certificate, key) for localhost, 127.0.0.1, ::1 and `host`; made once, then reused."""
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "self-signed.pem", folder / "self-signed-key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    try:
        address = ipaddress.ip_address(host)
        if not address.is_unspecified and address not in (
            ipaddress.ip_address("127.0.0.1"),
            ipaddress.ip_address("::1"),
        ):
            names.append(x509.IPAddress(address))
    except ValueError:
        if host != "localhost":
            names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "roster (self-signed)")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path
