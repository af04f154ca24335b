"""The sandbox's TLS: TLS 1.2+, client certificate REQUIRED and verified against the dev CA.

Everything a bad certificate can be wrong about is refused in the handshake by OpenSSL:
no certificate, unknown CA, expired or not yet valid, and an extendedKeyUsage without
clientAuth (a server verifying a client checks the "SSL client" purpose by default, which
rejects a present EKU lacking clientAuth; a certificate with no EKU at all is allowed, as
RFC 5280 says). ``tests/sandbox/test_tls.py`` proves each case against the real server.

Why the custom ``SSLObject``: asyncio's and uvloop's TLS protocols both close the transport
on a failed handshake without writing out what OpenSSL left in the outgoing memory BIO
(CPython gh-98078), so the fatal alert naming the reason (unknown_ca, certificate_expired,
unsupported_certificate, certificate_required ...) never reached the client, which saw a bare
EOF instead. Both protocols drive the handshake through ``sslcontext.wrap_bio()`` objects and
flush the BIO whenever ``do_handshake()`` asks for more data, so on failure we report "want
read" once (the alert is flushed), and raise the real error on the next call: when the client
sends its first request or closes after reading the alert (the handshake timeout covers a
client that does neither). The fast uvloop transport stays in place for every byte after it.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any


class _AlertFlushingSSLObject(ssl.SSLObject):
    """An ``SSLObject`` whose failed server handshake lets the protocol flush the alert first."""

    _outgoing: ssl.MemoryBIO | None = None
    _failure: ssl.SSLError | None = None

    def do_handshake(self) -> None:
        if self._failure is not None:
            raise self._failure
        try:
            super().do_handshake()
        except ssl.SSLWantReadError:
            raise
        except ssl.SSLError as exc:
            if self._outgoing is None or not self._outgoing.pending:
                raise
            self._failure = exc
            raise ssl.SSLWantReadError("handshake failed; flushing the alert first") from exc


class _AlertFlushingContext(ssl.SSLContext):
    sslobject_class = _AlertFlushingSSLObject

    def wrap_bio(
        self, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO, *args: Any, **kwargs: Any
    ) -> ssl.SSLObject:
        obj = super().wrap_bio(incoming, outgoing, *args, **kwargs)
        obj._outgoing = outgoing  # type: ignore[attr-defined]
        return obj


def server_context(ca: Path, cert: Path, key: Path, key_password: str | None = None) -> ssl.SSLContext:
    # what ssl.create_default_context(Purpose.CLIENT_AUTH, cafile=ca) builds, in our subclass
    ctx = _AlertFlushingContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_verify_locations(cafile=str(ca))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(str(cert), str(key), password=key_password)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def common_name(peercert: dict[str, Any] | None) -> str | None:
    """The subject CN of ``SSLObject.getpeercert()`` (a verified certificate)."""
    if not peercert:
        return None
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None
