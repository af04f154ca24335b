"""Helpers for the PKI tests: read files back with `cryptography`, and a real in-memory TLS
handshake. A plain module (not conftest) so its name cannot clash with other areas' conftests."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from harness.pki import DevPKI
from harness.pki.issue import PrivateKey


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_key(path: Path) -> PrivateKey:
    # the RSA self-test costs ~50 ms a key; callers compare public keys with the cert anyway
    return serialization.load_pem_private_key(  # type: ignore[return-value]
        path.read_bytes(), None, unsafe_skip_rsa_key_validation=True
    )


def fingerprint(path: Path) -> str:
    return load_cert(path).fingerprint(hashes.SHA256()).hex()


def fingerprints(pki: DevPKI) -> dict[str, str]:
    """Every certificate of a dev PKI by its path relative to the folder."""
    return {str(p.relative_to(pki.directory)): fingerprint(p) for p in pki.all_files() if p.suffix == ".pem"}


def handshake(
    *,
    server_cert: Path,
    server_key: Path,
    client_ca: Path,
    server_ca: Path | None = None,
    client_cert: Path | None = None,
    client_key: Path | None = None,
    server_hostname: str = "localhost",
) -> None:
    """A real TLS handshake in memory (OpenSSL on both ends, no socket): raises ssl.SSLError
    when either side rejects the other's certificate."""
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(server_cert, server_key)
    if server_ca is not None:
        server_ctx.load_verify_locations(server_ca)
        server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(client_ca))
    if client_cert is not None:
        client_ctx.load_cert_chain(client_cert, client_key)
    bios = [ssl.MemoryBIO(), ssl.MemoryBIO()]  # server->client, client->server
    client = client_ctx.wrap_bio(bios[0], bios[1], server_hostname=server_hostname)
    server = server_ctx.wrap_bio(bios[1], bios[0], server_side=True)
    done = {"client": False, "server": False}
    steps: list[tuple[str, Callable[[], None]]] = [
        ("client", client.do_handshake),
        ("server", server.do_handshake),
    ]
    for _ in range(20):
        for name, step in steps:
            if done[name]:
                continue
            try:
                step()
                done[name] = True
            except ssl.SSLWantReadError:
                pass
        if all(done.values()):
            # TLS 1.3: the server judges the client cert after the client thinks it is done;
            # a round of application data surfaces a rejection on the client side.
            client.write(b"ping")
            server.read(4)
            server.write(b"pong")
            client.read(4)
            return
    raise AssertionError("handshake did not complete")
