"""Who may do what: identity comes from the verified certificate, access from provisioning."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from harness.client import ClientIdentity, CRRClient
from harness.pki import DevPKI
from harness.pki.issue import Issued, issue_client_cert, write_cert_pem, write_key_pem
from harness.sandbox.launch import RunningSandbox
from harness.sandbox.web.provisioning import ProvisioningError, default_provisioning, load_provisioning
from tests.sandbox.sbutil import codes

ACTIVE = "/marketstatus/v1.0/activeAuctionMarkets"
PORTFOLIO_LIST = "/nomination/v1.0/portfolioList"


def test_identity_comes_from_the_certificate_not_from_headers(client_for: Callable[[str], CRRClient]):
    wcal = client_for("wcal")
    spoof = {"ssl-client-subject-dn": "CN=ecal", "x-client-cert-cn": "ecal", "x-participant": "ECAL"}
    r = wcal.get(ACTIVE, params={"participantName": "ECAL"}, headers=spoof)
    assert r.status == 403 and codes(r) == ["SEC0001"]
    assert wcal.get(ACTIVE, params={"participantName": "WCAL"}).status == 200


def test_one_certificate_for_two_sc_ids(client_for: Callable[[str], CRRClient]):
    ncal = client_for("ncal")
    for sc in ("NCAL", "SCAL"):
        assert ncal.get(ACTIVE, params={"participantName": sc}).status == 200
    assert codes(ncal.get(ACTIVE, params={"participantName": "ECAL"})) == ["SEC0001"]


def test_read_only_certificate_cannot_write(client_for: Callable[[str], CRRClient]):
    ro = client_for("ecal-readonly")
    assert ro.get(ACTIVE, params={"participantName": "ECAL"}).status == 200
    body = {"marketName": "AUC_MN_2026_M03", "portfolioName": "ro try", "participantName": "ECAL"}
    r = ro.post("/auction/v1.0/portfolioCreation", json=body)
    assert r.status == 403 and codes(r) == ["SEC0002"]


def test_partially_provisioned_certificate(client_for: Callable[[str], CRRClient]):
    ycal = client_for("ycal-partial")
    assert ycal.get(ACTIVE, params={"participantName": "YCAL"}).status == 200
    r = ycal.get(PORTFOLIO_LIST, params={"participantName": "YCAL", "marketName": "AUC_MN_2026_M03"})
    assert r.status == 403 and codes(r) == ["SEC0002"]


def test_operator_certificate_only_reaches_the_control_plane(client_for: Callable[[str], CRRClient]):
    op = client_for("operator")
    r = op.get("/status")
    assert r.status == 403 and codes(r) == ["SEC0002"]
    ecal = client_for("ecal")
    r = ecal.get(f"{ecal.origin}/simctl/v1/clock")
    assert r.status == 403 and codes(r) == ["SEC0002"]
    assert op.get(f"{op.origin}/simctl/v1/clock").status == 200


def _stranger(pki: DevPKI, folder: Path) -> ClientIdentity:
    ca = Issued(
        x509.load_pem_x509_certificate(pki.ca_cert.read_bytes()),
        serialization.load_pem_private_key(pki.ca_key.read_bytes(), None),  # type: ignore[arg-type]
    )
    issued = issue_client_cert(ca=ca, name="stranger", sc_ids=("ECAL",))
    cert, key = (
        write_cert_pem(folder / "stranger.pem", issued.cert),
        write_key_pem(folder / "stranger.key", issued.key),
    )
    return ClientIdentity.from_pem(cert, key)


def test_valid_certificate_with_unknown_cn_is_refused(
    sandbox: RunningSandbox, dev_pki: DevPKI, tmp_path: Path
):
    with CRRClient(sandbox.url, identity=_stranger(dev_pki, tmp_path), ca=dev_pki.ca_cert, retries=0) as c:
        r = c.get("/status")
        assert r.status == 403 and codes(r) == ["SEC0002"]
        r = c.get(ACTIVE, params={"participantName": "ECAL"})
        assert r.status == 403 and codes(r) == ["SEC0002"]


def test_provisioning_file_overrides_the_defaults(tmp_path: Path):
    f = tmp_path / "prov.yaml"
    f.write_text(
        "partner:\n  sc_ids: [XCAL, ZCAL]\n  access: ro\n  services: [market_status]\nboss: {role: operator}\n"
    )
    table = load_provisioning(f)
    assert set(table) == {"partner", "boss"}
    assert table["partner"].sc_ids == {"XCAL", "ZCAL"} and table["partner"].access == "ro"
    assert table["partner"].may_use("market_status") and not table["partner"].may_use("auction")
    assert table["boss"].operator
    assert default_provisioning()["ncal"].sc_ids == {"NCAL", "SCAL"}


@pytest.mark.parametrize(
    "text",
    ["[1, 2]", "x: {access: admin}", "x: {role: king}", "x: {sc_ids: ECAL}", "x: {colour: red}", "x: ["],
)
def test_bad_provisioning_file_gets_a_clear_error(tmp_path: Path, text: str):
    f = tmp_path / "prov.yaml"
    f.write_text(text)
    with pytest.raises(ProvisioningError):
        load_provisioning(f)
