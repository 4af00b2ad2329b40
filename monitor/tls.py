"""The one place a verifying TLS context is made, for the MQTT broker and the NATS cluster alike."""

from __future__ import annotations

import ssl

from monitor.config import TlsSettings


def verifying_context(tls: TlsSettings | None) -> ssl.SSLContext | None:
    """Verifying TLS context (CA file or the system store, hostname checked, TLS 1.2+), or None."""
    if tls is None:
        return None
    ctx = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls.cert_file is not None:
        key = str(tls.key_file) if tls.key_file else None
        ctx.load_cert_chain(str(tls.cert_file), key, password=_no_passphrase)
    return ctx


def _no_passphrase() -> str:
    """A daemon cannot answer OpenSSL's passphrase prompt: an encrypted key is a clear error instead."""
    raise ValueError("the client key is encrypted; the daemon needs an unencrypted key readable only by its user")
