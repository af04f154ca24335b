"""harness.pki.inspect and loading: reports on the dev PKI's real files."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from harness.pki import DevPKI, issue
from harness.pki.inspect import (
    CertificateLoadError,
    CertificateReport,
    PfxPasswordError,
    inspect_certificate,
    load_pfx,
    pfx_as_pem_files,
)
from tests.pki.pki_helpers import load_cert


def text_of(report: CertificateReport) -> str:
    return "\n".join(report.to_lines()) + json.dumps(report.to_dict())


def test_good_client_report(dev_pki: DevPKI) -> None:
    files = dev_pki.identities["ncal"]
    report = inspect_certificate(files.cert, ca=dev_pki.ca_cert, key=files.key)
    assert (report.common_name, report.organization, report.file_format) == ("ncal", "NCAL", "PEM")
    assert report.validity == "valid" and 300 < report.days_left <= 397
    assert (report.key_type, report.key_size) == ("RSA", 2048)
    assert report.extended_key_usage == ("clientAuth",) and report.client_auth and not report.server_auth
    assert "digitalSignature" in report.key_usage and not report.is_ca
    assert report.chain is not None and report.chain.trusted
    assert report.key_check is not None and report.key_check.matches
    assert report.problems == []
    cert = load_cert(files.cert)
    assert report.sha256_fingerprint.replace(":", "").lower() == cert.fingerprint(hashes.SHA256()).hex()
    lines = "\n".join(report.to_lines())
    assert "CN=ncal" in lines and "clientAuth" in lines and "Chain:          OK" in lines
    assert json.loads(json.dumps(report.to_dict()))["validity"] == "valid"
    assert "PRIVATE KEY" not in text_of(report)


def test_server_and_ca_reports(dev_pki: DevPKI) -> None:
    server = inspect_certificate(dev_pki.server_cert, ca=dev_pki.ca_cert)
    assert server.sans == ("DNS:localhost", "IP:127.0.0.1") and server.server_auth and not server.client_auth
    assert any("server certificate" in p for p in server.problems)
    ca = inspect_certificate(dev_pki.ca_cert, ca=dev_pki.ca_cert)
    assert ca.is_ca and ca.self_signed and "keyCertSign" in ca.key_usage and ca.chain.trusted
    assert ca.extended_key_usage is None and "not restricted" in "\n".join(ca.to_lines())


def test_bad_certificates_are_explained(dev_pki: DevPKI) -> None:
    expired = inspect_certificate(dev_pki.bad["expired"].cert)
    assert expired.validity == "EXPIRED" and expired.days_left < 0
    assert "EXPIRED" in "\n".join(expired.to_lines()) and "expired on" in expired.problems[0]
    future = inspect_certificate(dev_pki.bad["not-yet-valid"].cert)
    assert future.validity == "NOT YET VALID" and "not valid until" in future.problems[0]
    no_client = inspect_certificate(dev_pki.bad["no-client-auth"].cert)
    assert not no_client.client_auth and "NO (clientAuth not allowed)" in "\n".join(no_client.to_lines())
    foreign = inspect_certificate(dev_pki.bad["unknown-ca"].cert, ca=dev_pki.ca_cert)
    assert foreign.chain is not None and not foreign.chain.trusted
    assert "crrsim untrusted CA" in foreign.chain.detail
    assert inspect_certificate(dev_pki.bad["unknown-ca"].cert, ca=dev_pki.untrusted_ca_cert).chain.trusted


def test_validity_is_judged_at_the_given_moment(dev_pki: DevPKI) -> None:
    cert = load_cert(dev_pki.identities["ecal"].cert)
    later = cert.not_valid_after_utc + timedelta(days=2, hours=1)
    report = inspect_certificate(dev_pki.identities["ecal"].cert, now=later)
    assert (report.validity, report.days_left) == ("EXPIRED", -2)
    assert "EXPIRED 2 days ago" in "\n".join(report.to_lines())


def test_key_mismatch(dev_pki: DevPKI) -> None:
    report = inspect_certificate(dev_pki.identities["ecal"].cert, key=dev_pki.identities["wcal"].key)
    assert report.key_check is not None and not report.key_check.matches
    assert any("does not belong" in p for p in report.problems)


def test_pfx_report_and_combined_pem(dev_pki: DevPKI, tmp_path: Path) -> None:
    files = dev_pki.identities["operator"]
    report = inspect_certificate(files.pfx, password=dev_pki.password(), ca=dev_pki.ca_cert)
    assert report.file_format == "PKCS#12" and report.contains_private_key
    assert report.key_check.matches and report.chain.trusted and report.bundled_certificates
    assert dev_pki.password() not in text_of(report) and "PRIVATE KEY" not in text_of(report)
    # key first, then the certificate, in one PEM file
    combined = tmp_path / "combined.pem"
    combined.write_bytes(files.key.read_bytes() + files.cert.read_bytes())
    mixed = inspect_certificate(combined)
    assert mixed.contains_private_key and mixed.key_check.matches and mixed.common_name == "operator"
    # DER works too
    der = tmp_path / "operator.cer"
    der.write_bytes(load_cert(files.cert).public_bytes(serialization.Encoding.DER))
    assert inspect_certificate(der).sha256_fingerprint == report.sha256_fingerprint


def test_encrypted_pem_key(dev_pki: DevPKI, tmp_path: Path) -> None:
    ca = issue.make_ca(key_spec=issue.EC_P256)
    made = issue.issue_client_cert(ca=ca, name="ecal", key_spec=issue.EC_P256)
    encrypted = tmp_path / "enc.key"
    encrypted.write_bytes(
        made.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    cert = issue.write_cert_pem(tmp_path / "c.pem", made.cert)
    report = inspect_certificate(cert, key=encrypted, password="secret")
    assert report.key_check.matches and report.key_type == "EC secp256r1" and report.key_size == 256
    with pytest.raises(PfxPasswordError, match="Wrong password"):
        inspect_certificate(cert, key=encrypted, password="nope")
    with pytest.raises(PfxPasswordError, match="encrypted"):
        inspect_certificate(cert, key=encrypted)


def test_wrong_password_is_not_a_corrupt_file(dev_pki: DevPKI, tmp_path: Path) -> None:
    pfx = dev_pki.identities["ecal"].pfx
    with pytest.raises(PfxPasswordError, match="Wrong password"):
        load_pfx(pfx, "wrong")
    truncated = tmp_path / "truncated.pfx"
    truncated.write_bytes(pfx.read_bytes()[:-40])
    with pytest.raises(CertificateLoadError, match="damaged") as caught:
        load_pfx(truncated, dev_pki.password())
    assert not isinstance(caught.value, PfxPasswordError)
    garbage = tmp_path / "garbage.pfx"
    garbage.write_bytes(b"\x00\x01 not a pfx")
    with pytest.raises(CertificateLoadError) as caught:
        inspect_certificate(garbage, password="x")
    assert not isinstance(caught.value, PfxPasswordError)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "File not found"),
        (b"hello\n", "not a certificate"),
        (b"", "empty"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "does not parse"),
    ],
)
def test_unreadable_files_get_a_sentence(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "thing.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CertificateLoadError, match=message):
        inspect_certificate(path)


def test_pfx_as_pem_files_is_private_and_cleaned_up(dev_pki: DevPKI) -> None:
    files = dev_pki.identities["ecal"]
    with pfx_as_pem_files(files.pfx, dev_pki.password()) as pem:
        assert stat.S_IMODE(pem.directory.stat().st_mode) == 0o700
        assert stat.S_IMODE(pem.key.stat().st_mode) == 0o600
        assert load_cert(pem.cert) == load_cert(files.cert)
        assert pem.chain is not None and load_cert(pem.chain) == load_cert(dev_pki.ca_cert)
        assert inspect_certificate(pem.cert, key=pem.key).key_check.matches
        kept = pem.directory
    assert not kept.exists()
    with pytest.raises(RuntimeError), pfx_as_pem_files(files.pfx, dev_pki.password()) as pem:
        kept = pem.directory
        raise RuntimeError("tool crashed")
    assert not kept.exists()
    with pytest.raises(PfxPasswordError):
        pfx_as_pem_files(files.pfx, "wrong").__enter__()


def test_report_never_holds_key_material(dev_pki: DevPKI) -> None:
    report = inspect_certificate(dev_pki.identities["ecal"].pfx, password=dev_pki.password())
    key_pem = dev_pki.identities["ecal"].key.read_text()
    body = "".join(key_pem.splitlines()[1:-1])
    assert body[:40] not in text_of(report)
    assert isinstance(report.checked_at, datetime) and report.checked_at.tzinfo == UTC
