"""The Market Sim control plane: operator only, clock, markets, windows, messages; and the CLI."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner

from harness.cli.sandbox import command as sandbox_cli
from harness.client import CRRClient, CRRServiceException
from harness.client.control import ControlPlane
from harness.pki import DevPKI
from harness.sandbox.launch import RunningSandbox


def test_clock_set_advance_reset(operator: ControlPlane):
    assert operator.set_clock("2026-02-02T08:00:00Z") == {
        "now": "2026-02-02T08:00:00Z",
        "simulated": True,
        "running": False,
    }
    assert operator.advance(days=1, hours=2)["now"] == "2026-02-03T10:00:00Z"
    assert operator.advance_by("30m")["now"] == "2026-02-03T10:30:00Z"
    assert operator.reset_clock()["simulated"] is False


def test_create_open_close_market(operator: ControlPlane, own_client: Callable[[str], CRRClient]):
    operator.set_clock("2026-04-01T00:00:00Z")
    made = operator.create_market(
        name="AUC_MN_2026_M05",
        marketType="AUCTION",
        marketTerm="MONTHLY",
        periods=["2026_M05"],
        openDate="2026-04-10T16:00:00Z",
        closeDate="2026-04-12T00:00:00Z",
        dataPublishDate="2026-04-09T16:00:00Z",
    )
    assert made["status"] == "PREP"
    assert operator.open_window("AUC_MN_2026_M05", "1d")["status"] == "OPEN"
    assert operator.market("AUC_MN_2026_M05")["submissionWindow"]["closeDate"] == "2026-04-02T00:00:00Z"
    assert operator.close_window("AUC_MN_2026_M05")["status"] == "CLOSED"
    assert operator.set_status("AUC_MN_2026_M05", "OPEN")["status"] == "OPEN"
    assert operator.set_status("AUC_MN_2026_M05", None)["status"] == "CLOSED"
    assert "AUC_MN_2026_M05" in [m["name"] for m in operator.markets("AUCTION")]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.call("POST", "/clock", {}),
        lambda c: c.call("POST", "/clock", {"advance": "soon"}),
        lambda c: c.call("POST", "/clock", {"set": "yesterday"}),
        lambda c: c.call("POST", "/markets", {"name": "X"}),
        lambda c: c.call("POST", "/markets", {"name": "X", "periods": ["2026_M05"], "marketType": "BARTER"}),
        lambda c: c.open_window("NO_SUCH_MARKET"),
        lambda c: c.set_status("NO_SUCH_MARKET", "OPEN"),
        lambda c: c.publish_message("  "),
    ],
)
def test_bad_control_input_is_a_400(operator: ControlPlane, call):
    with pytest.raises(CRRServiceException) as info:
        call(operator)
    assert info.value.status == 400


def test_messages_are_handed_to_listeners(operator: ControlPlane):
    sent = operator.publish_message("Week 1 starts", to=["ECAL"])
    assert sent["published"] is True and sent["to"] == ["ECAL"]


def test_non_operators_are_refused(own_client: Callable[[str], CRRClient]):
    for name in ("ecal", "ecal-readonly", "ncal"):
        with pytest.raises(CRRServiceException) as info:
            ControlPlane(own_client(name)).clock()
        assert info.value.status == 403


def test_cli_drives_the_control_plane(own_sandbox: RunningSandbox, dev_pki: DevPKI):
    runner = CliRunner()
    common = ["--url", own_sandbox.url, "--pki", str(dev_pki.directory)]
    r = runner.invoke(sandbox_cli, ["clock", "--set", "2026-02-02T08:00:00Z", *common])
    assert r.exit_code == 0 and '"2026-02-02T08:00:00Z"' in r.output
    r = runner.invoke(sandbox_cli, ["clock", "--advance", "1d", *common])
    assert r.exit_code == 0 and '"2026-02-03T08:00:00Z"' in r.output
    r = runner.invoke(sandbox_cli, ["open", "NO_SUCH", *common])
    assert r.exit_code == 1 and "MKT0001" in r.output and "Traceback" not in r.output
    r = runner.invoke(sandbox_cli, ["clock", "--set", "x", "--advance", "1d", *common])
    assert r.exit_code == 2
    r = runner.invoke(sandbox_cli, ["clock", "--pki", "/nonexistent", "--url", own_sandbox.url])
    assert r.exit_code == 2 and "crrsim certs init" in r.output  # a configuration error (exit-code table)


def test_reset_empties_everything_and_sets_the_plan_up(
    operator: ControlPlane,
    own_client: Callable[[str], CRRClient],
    own_sandbox: RunningSandbox,
    dev_pki: DevPKI,
):
    """What every scenario starts from (issue 9 item 1): nothing left by earlier work."""
    ecal = own_client("ecal")

    def private_texts() -> str:
        r = ecal.request(
            "GET",
            "/messages/v1.0/private",
            params={"participantName": "ECAL", "fromDate": "2020-01-01T00:00:00Z"},
        )
        assert r.status in (200, 400), r.text  # 400: nothing for that range
        return r.text

    operator.reset()
    operator.publish_message("left over from an earlier scenario", to="ECAL")
    assert "left over from an earlier scenario" in private_texts()
    operator.create_market(
        name="AUC_MN_2026_M09",
        marketType="AUCTION",
        marketTerm="MONTHLY",
        periods=["2026_M09"],
        openDate="2026-08-10T16:00:00Z",
        closeDate="2026-08-12T00:00:00Z",
        dataPublishDate="2026-08-09T16:00:00Z",
    )
    answer = operator.reset()
    assert set(answer["markets"]) == {
        "ALLOC_MN_2026_M03_T1",
        "AUC_MN_2026_M03",
        "ALLOC_AN_2026_T1",
        "AUC_AN_2026",
    }
    assert answer["now"] == "2026-02-02T08:00:00Z"
    assert {m["name"] for m in operator.markets()} == set(answer["markets"])
    assert "left over" not in private_texts()
    r = CliRunner().invoke(sandbox_cli, ["reset", "--url", own_sandbox.url, "--pki", str(dev_pki.directory)])
    assert r.exit_code == 0 and "AUC_AN_2026" in r.output
