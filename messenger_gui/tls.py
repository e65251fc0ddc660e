"""TLS for the client: CA-verified contexts, and certificates pinned on first use. No I/O.

A server with a certificate from a CA (or from a CA file the user chose) is verified the
usual way: chain and host name. A self-signed certificate cannot be verified that way, so
the client trusts it on first use: it records the SHA-256 fingerprint of the leaf
certificate (over its DER bytes) in ``ClientData.tls_fingerprint`` and, on every later
connection, accepts exactly that certificate and refuses any other.
"""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path


def certificate_fingerprint(der: bytes) -> str:
    """The SHA-256 fingerprint of a DER certificate as colon-separated upper-case hex
    (``"AB:CD:…"``, 95 characters), the form ``openssl x509 -fingerprint -sha256`` shows,
    so a user can compare it with the one the administrator gives."""
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


def same_fingerprint(a: str, b: str) -> bool:
    """Whether two fingerprints are equal, ignoring case and colons."""

    def plain(value: str) -> str:
        return value.replace(":", "").strip().lower()

    return plain(a) == plain(b)


def verified_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """A context verifying the chain and host name against ``ca_file`` (PEM), or against
    the system's CA store when it is ``None``."""
    return ssl.create_default_context(cafile=None if ca_file is None else str(ca_file))


def pinning_context() -> ssl.SSLContext:
    """A context accepting any certificate: only for connections that compare the peer's
    fingerprint with a pinned one (or record it on first use) before sending anything."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
