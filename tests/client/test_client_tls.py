"""TLS setup: identities from PEM and PKCS#12, trust, protocol floor, and no leaked secrets."""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path

import pytest

from harness.client import (
    ClientIdentity,
    CRRClient,
    CRRTransportError,
    IdentityError,
    TLSSetupError,
    build_ssl_context,
)
from harness.pki.issue import EC_P256, issue_client_cert, make_ca, write_pfx


def test_context_is_strict_by_default(alice: ClientIdentity, test_pki) -> None:
    context = build_ssl_context(alice, test_pki.ca_cert)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_minimum_version_cannot_be_lowered_below_tls12() -> None:
    assert build_ssl_context(minimum_version=ssl.TLSVersion.TLSv1).minimum_version == ssl.TLSVersion.TLSv1_2


def test_server_offering_only_tls11_is_refused(old_tls_server: str, alice, test_pki) -> None:
    with (
        CRRClient(old_tls_server, identity=alice, ca=test_pki.ca_cert) as c,
        pytest.raises(CRRTransportError) as err,
    ):
        c.get("/echo")
    assert err.value.kind == "tls"


def test_wrong_ca_is_a_verification_error(mtls_server, alice, test_pki) -> None:
    client = CRRClient(mtls_server.url, identity=alice, ca=test_pki.rogue_ca_cert)
    with client, pytest.raises(CRRTransportError) as err:
        client.get("/echo")
    assert err.value.kind == "tls_verify" and "CERTIFICATE_VERIFY_FAILED" in str(err.value)


def test_system_trust_store_does_not_trust_the_test_ca(mtls_server, alice) -> None:
    with CRRClient(mtls_server.url, identity=alice) as c, pytest.raises(CRRTransportError) as err:
        c.get("/echo")
    assert err.value.kind == "tls_verify"


def test_hostname_is_checked(test_pki, alice, serve) -> None:
    """A server whose certificate (from the trusted CA) names another host is refused."""
    from harness.pki.issue import issue_server_cert, write_cert_pem, write_pair

    ca = make_ca(common_name="hostname CA", key_spec=EC_P256)
    other = issue_server_cert(ca=ca, common_name="elsewhere", sans=("elsewhere.example",), key_spec=EC_P256)
    directory = Path(tempfile.mkdtemp(dir=test_pki.directory))
    ca_file = write_cert_pem(directory / "ca.pem", ca.cert)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*write_pair(directory / "s", other))
    server = serve(context)
    client = CRRClient(f"https://127.0.0.1:{server.port}/crr", identity=alice, ca=ca_file)
    with client, pytest.raises(CRRTransportError) as err:
        client.get("/echo")
    assert err.value.kind == "tls_verify" and "mismatch" in str(err.value)


def test_no_client_certificate_is_rejected_by_the_server(mtls_server, test_pki) -> None:
    with CRRClient(mtls_server.url, ca=test_pki.ca_cert) as c, pytest.raises(CRRTransportError) as err:
        c.get("/echo")
    # TLS 1.3 servers refuse the missing certificate after the handshake: the client sees
    # either the alert or just a closed connection, depending on timing
    assert err.value.kind in ("tls", "protocol"), str(err.value)


def test_certificate_from_another_ca_is_rejected_by_the_server(mtls_server, test_pki) -> None:
    bob = ClientIdentity.from_pem(test_pki.other_cert, test_pki.other_key)
    with CRRClient(mtls_server.url, identity=bob, ca=test_pki.ca_cert) as c, pytest.raises(CRRTransportError):
        c.get("/echo")


def test_pfx_identity_works(mtls_server, test_pki) -> None:
    identity = ClientIdentity.from_pfx(test_pki.client_pfx, test_pki.pfx_password)
    assert identity.common_name == "alice" and identity.source.startswith("pfx:")
    with CRRClient(mtls_server.url, identity=identity, ca=test_pki.ca_cert) as c:
        assert c.get("/echo").json()["peer_cn"] == "alice"


def test_wrong_pfx_password_is_a_clear_error(test_pki) -> None:
    with pytest.raises(IdentityError, match="(?i)password") as err:
        ClientIdentity.from_pfx(test_pki.client_pfx, "not-the-password")
    assert err.value.password_problem
    assert "not-the-password" not in str(err.value)


def test_missing_pfx_password_is_a_clear_error(test_pki) -> None:
    with pytest.raises(IdentityError, match="CRRSIM_PFX_PASSWORD"):
        ClientIdentity.from_pfx(test_pki.client_pfx, None)


def test_not_a_pfx_is_a_clear_error(test_pki) -> None:
    with pytest.raises(IdentityError, match="PKCS#12") as err:
        ClientIdentity.from_pfx(test_pki.client_cert, test_pki.pfx_password)
    assert not err.value.password_problem


def test_missing_files_are_clear_errors(tmp_path: Path, test_pki) -> None:
    with pytest.raises(IdentityError, match="not found"):
        ClientIdentity.from_pem(tmp_path / "nope.pem", test_pki.client_key)
    with pytest.raises(TLSSetupError, match="does not exist"):
        build_ssl_context(ca=tmp_path / "no-ca.pem")


def test_key_must_match_certificate(test_pki) -> None:
    with pytest.raises(IdentityError, match="does not belong"):
        ClientIdentity.from_pem(test_pki.client_cert, test_pki.other_key)


def test_key_inside_the_certificate_file(tmp_path: Path, test_pki) -> None:
    combined = tmp_path / "both.pem"
    combined.write_bytes(test_pki.client_cert.read_bytes() + test_pki.client_key.read_bytes())
    assert ClientIdentity.from_pem(combined).common_name == "alice"


def test_repr_shows_no_secrets(test_pki) -> None:
    identity = ClientIdentity.from_pfx(test_pki.client_pfx, test_pki.pfx_password)
    key_body = test_pki.client_key.read_text().splitlines()[1]
    for text in (repr(identity), str(identity), f"{identity}"):
        assert (
            "alice" in text
            and test_pki.pfx_password not in text
            and "PRIVATE" not in text
            and key_body not in text
        )
    with pytest.raises(TypeError):
        __import__("pickle").dumps(identity)


def test_loading_leaves_no_key_files_behind(
    test_pki, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    identity = ClientIdentity.from_pfx(test_pki.client_pfx, test_pki.pfx_password)
    build_ssl_context(identity, test_pki.ca_cert)
    assert os.listdir(private_tmp) == []


def test_fresh_identity_from_another_pfx(tmp_path: Path, mtls_server, test_pki) -> None:
    """A pfx with a chain issued on the fly (as a participant's renewed file would be)."""
    from cryptography import x509

    ca = make_ca(common_name="client-test CA", key_spec=EC_P256)
    carol = issue_client_cert(ca=ca, name="carol", key_spec=EC_P256)
    pfx = write_pfx(tmp_path / "carol.pfx", key=carol.key, cert=carol.cert, password="pw-carol")
    identity = ClientIdentity.from_pfx(pfx, "pw-carol")
    assert isinstance(identity.certificate, x509.Certificate) and identity.is_valid_at()
    assert len(identity.fingerprint_sha256.split(":")) == 32
    # issued by a different CA key with the same name: the server must refuse it
    with (
        CRRClient(mtls_server.url, identity=identity, ca=test_pki.ca_cert) as c,
        pytest.raises(CRRTransportError),
    ):
        c.get("/echo")
