"""harness.pki.issue: one-off certificates for negative tests, parsed back with `cryptography`."""

from __future__ import annotations

import ipaddress
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness.pki import issue
from harness.pki.checks import key_matches
from tests.pki.pki_helpers import load_cert, load_key


@pytest.fixture(scope="module")
def ca() -> issue.Issued:
    return issue.make_ca(common_name="test CA")


def test_ec_keys_and_curves(ca: issue.Issued) -> None:
    for spec, curve in ((issue.EC_P256, ec.SECP256R1), (issue.EC_P384, ec.SECP384R1)):
        made = issue.issue_client_cert(ca=ca, name="ecal", sc_ids=("ECAL",), key_spec=spec)
        public = made.cert.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, curve)
        made.cert.verify_directly_issued_by(ca.cert)
        usage = made.cert.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature and not usage.key_encipherment  # ECDHE needs no encipherment
    ec_ca = issue.make_ca(key_spec=issue.EC_P384)
    issue.issue_server_cert(ca=ec_ca).cert.verify_directly_issued_by(ec_ca.cert)


def test_rsa_size_is_selectable_and_weak_keys_refused() -> None:
    key = issue.KeySpec("rsa", rsa_bits=3072).generate()
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 3072
    with pytest.raises(ValueError, match="2048"):
        issue.KeySpec("rsa", rsa_bits=1024).generate()
    with pytest.raises(ValueError, match="curve"):
        issue.KeySpec("ec", curve="P-521").generate()  # type: ignore[arg-type]


def test_any_sans_window_and_eku(ca: issue.Issued) -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    made = issue.issue_server_cert(
        ca=ca,
        sans=("api.example.test", "::1", "10.0.0.7", "uri:https://example.test/crr", "DNS:*.example.test"),
        not_before=start,
        not_after=start + timedelta(hours=1),
        extended_key_usages=(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
        private_key=ca.key,  # reuse a key: also shows callers may bring their own
    )
    sans = made.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["api.example.test", "*.example.test"]
    assert sans.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("::1"),
        ipaddress.ip_address("10.0.0.7"),
    ]
    assert sans.get_values_for_type(x509.UniformResourceIdentifier) == ["https://example.test/crr"]
    assert (made.cert.not_valid_before_utc, made.cert.not_valid_after_utc) == (
        start,
        start + timedelta(hours=1),
    )
    eku = made.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]


def test_client_defaults_and_no_eku_option(ca: issue.Issued) -> None:
    made = issue.issue_client_cert(ca=ca, name="operator")
    assert made.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "CAISO Market Sim"
    eku = made.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    bc = made.cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert not bc.ca
    bare = issue.issue_client_cert(ca=ca, name="x", sc_ids=("NCAL", "SCAL"), extended_key_usages=())
    assert bare.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "NCAL"
    with pytest.raises(x509.ExtensionNotFound):
        bare.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)


def test_bad_windows_are_refused(ca: issue.Issued) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        issue.issue_client_cert(ca=ca, name="x", not_before=datetime(2030, 1, 1), private_key=ca.key)
    now = datetime.now(UTC)
    with pytest.raises(ValueError, match="later than"):
        issue.issue_client_cert(ca=ca, name="x", not_before=now, not_after=now, private_key=ca.key)


def test_writers_modes_and_pfx(ca: issue.Issued, tmp_path: Path) -> None:
    made = issue.issue_client_cert(ca=ca, name="ecal", sc_ids=("ECAL",), private_key=ca.key)
    cert = issue.write_cert_pem(tmp_path / "c.pem", made.cert, ca.cert)
    key = issue.write_key_pem(tmp_path / "sub" / "c.key", made.key)
    pfx = issue.write_pfx(tmp_path / "c.pfx", key=made.key, cert=made.cert, ca_certs=[ca.cert], password="pw")
    assert x509.load_pem_x509_certificates(cert.read_bytes()) == [made.cert, ca.cert]
    assert key_matches(load_cert(cert), load_key(key))
    assert b"ENCRYPTED" not in key.read_bytes()  # tools need it unencrypted
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in (cert, key, pfx)} == {
        "c.pem": 0o644,
        "c.key": 0o600,
        "c.pfx": 0o600,
    }
    loaded = pkcs12.load_pkcs12(pfx.read_bytes(), b"pw")
    assert loaded.cert is not None and loaded.cert.certificate == made.cert
    assert loaded.cert.friendly_name == b"ecal"
    assert [c.certificate for c in loaded.additional_certs] == [ca.cert]
    with pytest.raises(ValueError, match="non-empty password"):
        issue.pfx_bytes(key=made.key, cert=made.cert, password="")
    assert not list(tmp_path.glob(".*")), "no temp files left behind"
