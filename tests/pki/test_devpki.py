"""The dev PKI on disk, read back with `cryptography` and exercised with real OpenSSL handshakes."""

from __future__ import annotations

import os
import ssl
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness.pki import DevPKI, PfxPasswordError, ensure_dev_pki, load_pfx
from harness.pki.checks import key_matches
from harness.pki.identities import BAD_CLIENT_CERTS, DEV_IDENTITIES
from tests.pki.pki_helpers import fingerprints, handshake, load_cert, load_key

CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH
SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH


def ekus(cert: x509.Certificate) -> list[x509.ObjectIdentifier]:
    return list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_layout_matches_the_agreed_interface(dev_pki: DevPKI) -> None:
    d = dev_pki.directory
    assert (dev_pki.ca_cert, dev_pki.ca_key) == (d / "ca.pem", d / "ca.key")
    assert (dev_pki.server_cert, dev_pki.server_key) == (d / "server.pem", d / "server.key")
    assert dev_pki.password_file == d / "pfx-password"
    assert list(dev_pki.identities) == [i.name for i in DEV_IDENTITIES]
    assert list(dev_pki.bad) == list(BAD_CLIENT_CERTS)
    for name, files in dev_pki.identities.items():
        assert (files.name, files.cert, files.key, files.pfx) == (
            name,
            d / "clients" / f"{name}.pem",
            d / "clients" / f"{name}.key",
            d / "clients" / f"{name}.pfx",
        )
    for name, files in dev_pki.bad.items():
        assert files.cert == d / "bad" / f"{name}.pem"
    assert all(p.is_file() for p in dev_pki.all_files())


def test_every_certificate_key_and_pfx_parses_and_belongs_together(dev_pki: DevPKI) -> None:
    pairs = [
        (dev_pki.ca_cert, dev_pki.ca_key),
        (dev_pki.server_cert, dev_pki.server_key),
        (dev_pki.untrusted_ca_cert, dev_pki.untrusted_ca_key),
    ]
    pairs += [(f.cert, f.key) for f in (*dev_pki.identities.values(), *dev_pki.bad.values())]
    for cert_path, key_path in pairs:
        cert, key = load_cert(cert_path), load_key(key_path)
        assert key_matches(cert, key), cert_path
        assert key.key_size == 2048
    for files in (*dev_pki.identities.values(), *dev_pki.bad.values()):
        pfx_key, pfx_cert, chain = pkcs12.load_key_and_certificates(
            files.pfx.read_bytes(), dev_pki.password().encode()
        )
        assert pfx_cert == load_cert(files.cert)
        assert isinstance(pfx_key, rsa.RSAPrivateKey) and key_matches(pfx_cert, pfx_key)
        expected_ca = dev_pki.untrusted_ca_cert if files.name == "unknown-ca" else dev_pki.ca_cert
        assert chain == [load_cert(expected_ca)], "pfx carries the issuing CA"


def test_ca_is_a_self_signed_signing_ca(dev_pki: DevPKI) -> None:
    ca = load_cert(dev_pki.ca_cert)
    ca.verify_directly_issued_by(ca)
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign


def test_good_certificates_chain_to_the_ca_and_unknown_ca_does_not(dev_pki: DevPKI) -> None:
    ca = load_cert(dev_pki.ca_cert)
    issued_here = [dev_pki.server_cert, *(f.cert for f in dev_pki.identities.values())]
    issued_here += [f.cert for n, f in dev_pki.bad.items() if n != "unknown-ca"]
    for path in issued_here:
        load_cert(path).verify_directly_issued_by(ca)
    foreign = load_cert(dev_pki.bad["unknown-ca"].cert)
    with pytest.raises((ValueError, InvalidSignature)):
        foreign.verify_directly_issued_by(ca)
    foreign.verify_directly_issued_by(load_cert(dev_pki.untrusted_ca_cert))


def test_subjects_name_the_identity_and_its_first_sc_id(dev_pki: DevPKI) -> None:
    for ident in DEV_IDENTITIES:
        subject = load_cert(dev_pki.identities[ident.name].cert).subject
        assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ident.name
        org = subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
        assert org == (ident.sc_ids[0] if ident.sc_ids else "CAISO Market Sim")
    for files in dev_pki.bad.values():  # all impersonate ECAL
        assert load_cert(files.cert).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "ecal"


def test_usages(dev_pki: DevPKI) -> None:
    server = load_cert(dev_pki.server_cert)
    assert ekus(server) == [SERVER_AUTH]
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    for files in dev_pki.identities.values():
        assert CLIENT_AUTH in ekus(load_cert(files.cert))
    no_client = ekus(load_cert(dev_pki.bad["no-client-auth"].cert))
    assert CLIENT_AUTH not in no_client and SERVER_AUTH in no_client


def test_validity_windows(dev_pki: DevPKI) -> None:
    now = datetime.now(UTC)
    expired = load_cert(dev_pki.bad["expired"].cert)
    assert expired.not_valid_after_utc < now
    future = load_cert(dev_pki.bad["not-yet-valid"].cert)
    assert future.not_valid_before_utc > now + timedelta(days=30)
    for path in (dev_pki.server_cert, *(f.cert for f in dev_pki.identities.values())):
        cert = load_cert(path)
        assert cert.not_valid_before_utc <= now < cert.not_valid_after_utc - timedelta(days=300)


def test_pfx_opens_only_with_its_password(dev_pki: DevPKI) -> None:
    pfx = dev_pki.identities["ecal"].pfx
    key, cert, chain = load_pfx(pfx, dev_pki.password())
    assert cert == load_cert(dev_pki.identities["ecal"].cert) and key is not None and len(chain) == 1
    with pytest.raises(PfxPasswordError, match="Wrong password"):
        load_pfx(pfx, dev_pki.password() + "x")
    with pytest.raises(PfxPasswordError, match="password-protected"):
        load_pfx(pfx, None)
    with pytest.raises(ValueError):  # and cryptography itself agrees
        pkcs12.load_key_and_certificates(pfx.read_bytes(), b"not-the-password")


def test_file_modes(dev_pki: DevPKI) -> None:
    def mode(p: Path) -> int:
        return stat.S_IMODE(p.stat().st_mode)

    for folder in (dev_pki.directory, dev_pki.directory / "clients", dev_pki.directory / "bad"):
        assert mode(folder) == 0o700, folder
    secret = [dev_pki.ca_key, dev_pki.server_key, dev_pki.untrusted_ca_key, dev_pki.password_file]
    for files in (*dev_pki.identities.values(), *dev_pki.bad.values()):
        secret += [files.key, files.pfx]
    for path in secret:
        assert mode(path) == 0o600, path


def test_readme_explains_the_folder_without_secrets(dev_pki: DevPKI) -> None:
    text = dev_pki.readme.read_text()
    assert "ca.pem" in text and "no-client-auth" in text and "ecal-readonly" in text
    assert dev_pki.password() not in text and "PRIVATE KEY" not in text


def test_second_run_changes_nothing(dev_pki: DevPKI) -> None:
    before = fingerprints(dev_pki)
    mtimes = {p: p.stat().st_mtime_ns for p in dev_pki.all_files()}
    again = ensure_dev_pki(dev_pki.directory, password=dev_pki.password())
    assert again.changes == ()
    assert fingerprints(again) == before
    assert {p: p.stat().st_mtime_ns for p in again.all_files()} == mtimes
    assert again == dev_pki


def test_missing_leaf_is_reissued_alone(pki_copy: Path, dev_pki: DevPKI) -> None:
    before = fingerprints(dev_pki)
    (pki_copy / "clients" / "ecal.key").unlink()
    (pki_copy / "clients" / "wcal.pfx").unlink()
    pki = ensure_dev_pki(pki_copy, password=dev_pki.password())
    after = fingerprints(pki)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"clients/ecal.pem"}
    assert {c.path.name for c in pki.changes} == {"ecal.pem", "ecal.key", "ecal.pfx", "wcal.pfx"}
    assert stat.S_IMODE(pki.identities["ecal"].key.stat().st_mode) == 0o600
    key, cert, _ = load_pfx(pki.identities["wcal"].pfx, pki.password())
    assert cert == load_cert(pki.identities["wcal"].cert)


def test_regenerated_ca_reissues_everything_it_signed(pki_copy: Path, dev_pki: DevPKI) -> None:
    before = fingerprints(dev_pki)
    (pki_copy / "ca.key").unlink()
    pki = ensure_dev_pki(pki_copy, password=dev_pki.password())
    after = fingerprints(pki)
    unchanged = {k for k in before if before[k] == after[k]}
    assert unchanged == {"bad/unknown-ca.pem", "bad/untrusted-ca.pem"}
    ca = load_cert(pki.ca_cert)
    for path in (pki.server_cert, *(f.cert for f in pki.identities.values())):
        load_cert(path).verify_directly_issued_by(ca)
    _, _, chain = load_pfx(pki.identities["ecal"].pfx, pki.password())
    assert chain == [ca]


def test_password_generated_once_then_reused(
    pki_copy: Path, dev_pki: DevPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRRSIM_PFX_PASSWORD", raising=False)
    (pki_copy / "pfx-password").unlink()
    first = ensure_dev_pki(pki_copy)
    assert first.password_source == "generated"
    secret = first.password_file.read_text().strip()
    assert len(secret) >= 16 and first.password() == secret != dev_pki.password()
    assert stat.S_IMODE(first.password_file.stat().st_mode) == 0o600
    assert fingerprints(first) == fingerprints(dev_pki), "a new password re-packs, it does not re-key"
    second = ensure_dev_pki(pki_copy)
    assert (second.password_source, second.password(), second.changes) == ("file", secret, ())
    assert load_pfx(second.identities["ncal"].pfx, secret)[1] == load_cert(second.identities["ncal"].cert)
    assert secret not in repr(second)

    # $CRRSIM_PFX_PASSWORD wins: the pfx files are re-packed (same keys), the stale file goes,
    # and the environment's password is never written to disk.
    monkeypatch.setenv("CRRSIM_PFX_PASSWORD", "from-the-environment")
    third = ensure_dev_pki(pki_copy)
    assert third.password_source == "environment" and third.password() == "from-the-environment"
    assert not third.password_file.exists()
    assert fingerprints(third) == fingerprints(dev_pki)
    assert {c.action for c in third.changes} == {"repacked", "removed"}
    load_pfx(third.identities["ncal"].pfx, "from-the-environment")
    assert all(b"from-the-environment" not in p.read_bytes() for p in pki_copy.rglob("*") if p.is_file())


# --- the certificates work with a real TLS stack (OpenSSL via the ssl module, in memory) ----


def test_real_tls_accepts_the_server_for_localhost_and_127_0_0_1(dev_pki: DevPKI) -> None:
    for host in ("localhost", "127.0.0.1"):
        handshake(
            server_cert=dev_pki.server_cert,
            server_key=dev_pki.server_key,
            client_ca=dev_pki.ca_cert,
            server_hostname=host,
        )
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(
            server_cert=dev_pki.server_cert,
            server_key=dev_pki.server_key,
            client_ca=dev_pki.ca_cert,
            server_hostname="example.org",
        )


def test_real_tls_accepts_every_identity(dev_pki: DevPKI) -> None:
    for files in dev_pki.identities.values():
        handshake(
            server_cert=dev_pki.server_cert,
            server_key=dev_pki.server_key,
            client_ca=dev_pki.ca_cert,
            server_ca=dev_pki.ca_cert,
            client_cert=files.cert,
            client_key=files.key,
        )


@pytest.mark.parametrize("fault", BAD_CLIENT_CERTS)
def test_real_tls_rejects_each_bad_client_cert(dev_pki: DevPKI, fault: str) -> None:
    files = dev_pki.bad[fault]
    with pytest.raises(ssl.SSLError):
        handshake(
            server_cert=dev_pki.server_cert,
            server_key=dev_pki.server_key,
            client_ca=dev_pki.ca_cert,
            server_ca=dev_pki.ca_cert,
            client_cert=files.cert,
            client_key=files.key,
        )


def test_concurrent_runs_agree(pki_copy: Path, dev_pki: DevPKI) -> None:
    """Two processes (say the sandbox and a test session) repairing one folder at once end up
    with one certificate, not two half-written ones: the folder lock serialises them."""
    import subprocess
    import sys

    for suffix in (".pem", ".key", ".pfx"):
        (pki_copy / "clients" / f"ecal{suffix}").unlink()
    code = (
        "import sys; from pathlib import Path; from harness.pki import ensure_dev_pki;"
        "p = ensure_dev_pki(Path(sys.argv[1]), password=sys.argv[2]);"
        "sys.stdout.write(p.identities['ecal'].cert.read_text())"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(pki_copy), dev_pki.password()],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs[0] == outputs[1] == (pki_copy / "clients" / "ecal.pem").read_text()
    load_cert(pki_copy / "clients" / "ecal.pem").verify_directly_issued_by(load_cert(dev_pki.ca_cert))
