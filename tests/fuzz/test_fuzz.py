"""`crrsim fuzz` (issue 11, first part): schemathesis' engine against the sandbox, CAISO-aware
checks, and the safety rule for shared environments. Runs as a subprocess, as a user runs it
(schemathesis keeps global registries of checks and hooks)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.config import load_config
from harness.contract import load_catalogue
from harness.fuzz.safety import NAMESPACED, select_operations
from harness.fuzz.settings import FuzzSettings


def crrsim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=600, cwd=cwd
    )


def test_fuzz_against_the_embedded_sandbox_reports_every_operation(dev_pki, tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--pki",
        str(dev_pki.directory),
        "--service",
        "market_status",
        "--service",
        "auction",
        "--max-examples",
        "5",
        "--seed",
        "7",
        "--json",
        str(out),
        "--junit",
        str(tmp_path / "f.xml"),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    data = json.loads(out.read_text())
    names = {c["name"] for c in data["cases"]}
    assert (
        len(names) == 6 + 8 and "POST /auction/v1.0/portfolioCreation" in names
    )  # every operation, writes too
    assert all(c["data"]["calls"] > 0 for c in data["cases"])
    assert data["meta"]["calls"] >= 100 and data["ok"] is True
    assert any(c["data"]["business"] > 0 for c in data["cases"])  # some calls reached business logic
    run_facts = data["sections"][0]["facts"]
    assert run_facts["seed"].startswith("7 (--seed 7 ") and run_facts["writes"].startswith("allowed")
    live = next(s["facts"] for s in data["sections"] if s["title"] == "Live values")
    assert live["participant"] == "ECAL" and "AUC_MN_2026_M03" in live["market"]  # read from the target
    assert live["portfolio"].startswith(f"crrsim fuzz {data['meta']['run_id']} ")  # the run's namespace
    status = next(c for c in data["cases"] if c["name"] == "GET /marketstatus/v1.0/marketStatus")
    # live names reach the rules: most positive cases get past "unknown market" and "not your SC ID"
    assert status["data"]["positive_business"] / status["data"]["positive"] > 0.5


def test_off_the_sandbox_no_write_is_sent_without_allow_writes(
    dev_pki, shared_pki: Path, tmp_path: Path
) -> None:
    from harness.sandbox.launch import start_sandbox

    running = start_sandbox(dev_pki.directory, tmp_path / "shared.db", access_log=True)
    try:
        out = tmp_path / "fuzz.json"
        run = crrsim(
            "fuzz",
            "--url",
            running.url,
            "--pki",
            str(shared_pki),
            "--service",
            "auction",
            "--max-examples",
            "3",
            "--rate",
            "500",
            "--json",
            str(out),
            cwd=tmp_path,
        )
        assert run.returncode in (0, 1, 6), run.stderr[-2000:]
        log = running.output()
    finally:
        running.stop()
    data = json.loads(out.read_text())
    assert {c["name"].split()[0] for c in data["cases"]} == {"GET"}
    assert "write operations left out" in json.dumps(data["sections"])
    crr_calls = [line for line in log.splitlines() if re.search(r'"(?!GET )[A-Z]+ /crr/', line)]
    assert crr_calls == [], crr_calls[:5]  # no write, and no other method probed (OPTIONS, HEAD, TRACE)
    assert any('"GET /crr/auction/' in line for line in log.splitlines())  # the reads did reach it


@pytest.mark.parametrize(
    ("target", "allow", "writes"),
    [
        ("sandbox", False, True),
        ("mapstage", False, False),
        ("mapstage", True, True),
        ("production", False, False),
        ("production", True, False),  # no flag writes to production
    ],
)
def test_which_operations_run_where(
    target: str, allow: bool, writes: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = FuzzSettings.from_config(load_config(None, overrides={"target": target}), allow_writes=allow)
    catalogue = load_catalogue(None)
    chosen = select_operations(catalogue, settings)
    write_ids = {(s.name, op.operation_id) for s in catalogue for op in s.operations if op.writes}
    picked = {(svc, op) for svc, ops in chosen.allowed.items() for op in ops}
    assert bool(picked & write_ids) is writes
    if target == "sandbox":
        assert len(picked) == 69
    elif writes:  # shared + --allow-writes: only writes whose resources carry the run's namespace
        assert picked & write_ids == {w for w in write_ids if w[0] in NAMESPACED}
    else:
        assert len(picked) == 69 - len(write_ids)
    assert (settings.rate is None) is (target == "sandbox")  # a rate cap off the sandbox


def test_with_allow_writes_only_the_runs_own_resources_are_made_and_all_are_gone_at_the_end(
    dev_pki, shared_pki: Path, tmp_path: Path
) -> None:
    import sqlite3

    from harness.client import ClientIdentity, CRRClient
    from harness.client.control import ControlPlane
    from harness.sandbox.launch import start_sandbox

    running = start_sandbox(dev_pki.directory, tmp_path / "shared.db")
    try:
        operator = dev_pki.identities["operator"]
        with CRRClient(
            running.url, identity=ClientIdentity.from_pem(operator.cert, operator.key), ca=dev_pki.ca_cert
        ) as client:
            ControlPlane(client).reset()
            ControlPlane(client).set_clock("2026-02-04T18:00:00Z")  # plan Wednesday: monthly windows open
        out = tmp_path / "fuzz.json"
        run = crrsim(
            "fuzz",
            "--url",
            running.url,
            "--pki",
            str(shared_pki),
            "--service",
            "auction",
            "--allow-writes",
            "--max-examples",
            "5",
            "--seed",
            "3",
            "--rate",
            "500",
            "--json",
            str(out),
            cwd=tmp_path,
        )
        assert run.returncode in (0, 1, 6), run.stderr[-2000:]
        data = json.loads(out.read_text())
        assert "ALLOWED (--allow-writes)" in json.dumps(data["sections"])
        conn = sqlite3.connect(f"file:{tmp_path / 'shared.db'}?mode=ro", uri=True)
        left = [r[0] for r in conn.execute("SELECT name FROM crr_portfolios")]
        conn.close()
    finally:
        running.stop()
    assert left == [], left  # created ones were all in the run's namespace, and all were deleted
    cleanup = next(s for s in data["sections"] if s["title"].startswith("Clean-up"))["text"]
    run_id = data["meta"]["run_id"]
    assert cleanup and all(
        f"crrsim fuzz {run_id} " in line and line.startswith("deleted") for line in cleanup
    )


def _serve(
    dev_pki,
    status: int,
    content_type: str,
    body: bytes,  # noqa: ANN202 - (server, thread)
    routes: dict[str, bytes] | None = None,
):
    """A real TLS server on 127.0.0.1 that answers every request the same way (a faulty gateway),
    except paths ending in a ``routes`` key, answered 200 with that JSON."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            path = self.path.split("?")[0]
            routed = next((b for p, b in (routes or {}).items() if path.endswith(p)), None)
            answer = routed if routed is not None else body
            self.send_response(200 if routed is not None else status)
            self.send_header("Content-Type", "application/json" if routed is not None else content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = do_DELETE = do_PUT = do_OPTIONS = do_HEAD = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(dev_pki.ca_cert))
    ctx.load_cert_chain(str(dev_pki.server_cert), str(dev_pki.server_key))
    ctx.verify_mode = ssl.CERT_REQUIRED
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def _fuzz_stub(
    dev_pki,
    tmp_path: Path,
    *args: str,
    status: int = 200,
    content_type: str = "application/json",
    body: bytes = b"[]",
    routes: dict[str, bytes] | None = None,
    pki: bool = False,
) -> tuple[subprocess.CompletedProcess, dict]:
    """`crrsim fuzz ARGS` as ECAL against a ``_serve`` stub (with the dev PKI's second identity when
    ``pki``), at 500 requests/s; the run and its JSON report."""
    server = _serve(dev_pki, status, content_type, body, routes)
    try:
        ecal = dev_pki.identities["ecal"]
        url = f"https://127.0.0.1:{server.server_address[1]}/crr"
        out = tmp_path / "fuzz.json"
        second = ["--pki", str(dev_pki.directory)] if pki else []
        run = crrsim(
            "fuzz",
            "--url",
            url,
            *second,
            "--cert",
            str(ecal.cert),
            "--key",
            str(ecal.key),
            "--ca",
            str(dev_pki.ca_cert),
            "--rate",
            "500",
            *args,
            "--json",
            str(out),
            cwd=tmp_path,
        )
    finally:
        server.shutdown()
    return run, (json.loads(out.read_text()) if out.is_file() else {})


@pytest.mark.parametrize(
    ("status", "content_type", "body", "check"),
    [
        (200, "text/html; charset=utf-8", b"<html><body>Sign in</body></html>", "crr_no_html_success"),
        (400, "text/plain", b"bad request", "crr_error_body"),
    ],
)
def test_fuzz_names_the_operation_and_check_of_a_faulty_answer(
    dev_pki, tmp_path: Path, status: int, content_type: str, body: bytes, check: str
) -> None:
    run, data = _fuzz_stub(
        dev_pki,
        tmp_path,
        "--service",
        "market_status",
        "--max-examples",
        "3",
        "--phases",
        "examples,fuzzing",
        status=status,
        content_type=content_type,
        body=body,
    )
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    failing = {f["where"] for f in data["findings"]}
    assert check in failing, failing
    finding = next(f for f in data["findings"] if f["where"] == check)
    assert finding["text"].startswith("GET /marketstatus/v1.0/")  # the operation, named
    assert "--cert" in finding["fix"] and "--cacert" in finding["fix"]  # a curl line with the identity


def test_the_isolation_oracle_catches_a_service_that_answers_anyone(dev_pki, tmp_path: Path) -> None:
    """A server that hands ECAL's data to any certificate: the second identity's re-send is not
    refused with SEC0001, and the oracle says so."""
    run, data = _fuzz_stub(
        dev_pki,
        tmp_path,
        "--service",
        "market_status",
        "--max-examples",
        "3",
        "--phases",
        "examples,fuzzing",
        pki=True,
    )
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    assert "crr_other_participant_refused" in {f["where"] for f in data["findings"]}
    assert "(0 sent)" not in data["sections"][0]["facts"]["isolation oracle"]


def test_the_isolation_oracle_passes_on_the_sandbox(dev_pki, tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--pki",
        str(dev_pki.directory),
        "--service",
        "market_status",
        "--max-examples",
        "5",
        "--phases",
        "examples,fuzzing",
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    oracle = json.loads(out.read_text())["sections"][0]["facts"]["isolation oracle"]
    assert "(wcal)" in oracle and "(0 sent)" not in oracle


def test_the_isolation_oracle_resends_writes_on_the_sandbox(dev_pki, tmp_path: Path) -> None:
    """Another participant submitting, retracting or deleting ECAL's portfolios is refused too."""
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--pki",
        str(dev_pki.directory),
        "--service",
        "auction",
        "--service",
        "nomination",
        "--max-examples",
        "5",
        "--seed",
        "3",
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    oracle = json.loads(out.read_text())["sections"][0]["facts"]["isolation oracle"]
    writes = int(re.search(r"(\d+) of them writes", oracle).group(1))
    assert writes > 0, oracle


def test_the_isolation_oracle_catches_writes_accepted_from_anyone(dev_pki, tmp_path: Path) -> None:
    """A server that lets any certificate submit in ECAL's name: the re-sent submission is not refused."""
    run, data = _fuzz_stub(
        dev_pki,
        tmp_path,
        "--service",
        "auction",
        "--operation",
        "portfolioSubmission",
        "--allow-writes",
        "--max-examples",
        "3",
        "--phases",
        "examples,fuzzing",
        pki=True,
    )
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    found = [f for f in data["findings"] if f["where"] == "crr_other_participant_refused"]
    assert found and found[0]["text"].startswith("POST /auction/v1.0/portfolioSubmission"), found


def test_acknowledged_portfolios_read_back_unchanged_on_the_sandbox(dev_pki, tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--pki",
        str(dev_pki.directory),
        "--service",
        "auction",
        "--service",
        "nomination",
        "--operation",
        "portfolioCreation",
        "--max-examples",
        "10",
        "--seed",
        "3",
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    fact = json.loads(out.read_text())["sections"][0]["facts"]["read-back oracle"]
    assert int(fact.split()[0]) > 0, fact


def test_the_read_back_oracle_catches_a_target_that_loses_records(dev_pki, tmp_path: Path) -> None:
    """A server that acknowledges every creation and keeps nothing: the read-back finds no records."""
    run, data = _fuzz_stub(
        dev_pki,
        tmp_path,
        "--service",
        "auction",
        "--operation",
        "portfolioCreation",
        "--allow-writes",
        "--mode",
        "positive",
        "--max-examples",
        "10",
        "--phases",
        "examples,fuzzing",
        "--seed",
        "3",
        body=b"{}",
    )
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    found = [f for f in data["findings"] if f["where"] == "crr_created_reads_back"]
    assert found and "read back" in found[0]["text"], found


def test_uploads_breaking_one_business_rule_are_refused_by_the_sandbox(dev_pki, tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--pki",
        str(dev_pki.directory),
        "--service",
        "auction",
        "--service",
        "nomination",
        "--operation",
        "portfolioCreation",
        "--max-examples",
        "30",
        "--seed",
        "3",
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    fact = json.loads(out.read_text())["sections"][0]["facts"]["business rules broken one at a time"]
    tallies = re.findall(r"(\d+) of (\d+) refused", fact)
    assert len(tallies) == 4 and all(a == b for a, b in tallies), fact


def test_a_target_accepting_a_broken_rule_is_named_with_the_rule(dev_pki, tmp_path: Path) -> None:
    """A server that lists a market and then acknowledges every upload: the ones breaking a business
    rule on purpose are reported with the rule."""
    market = json.dumps(
        [
            {
                "name": "2027_JAN_MONTHLY_AUC",
                "products": [
                    {"period": {"name": "JAN"}, "tou": "ON"},
                    {"period": {"name": "JAN"}, "tou": "OFF"},
                ],
            }
        ]
    ).encode()
    acknowledged = json.dumps(
        {"portfolioName": "p", "marketName": "2027_JAN_MONTHLY_AUC", "status": "VALID"}
    ).encode()
    run, data = _fuzz_stub(
        dev_pki,
        tmp_path,
        "--service",
        "auction",
        "--operation",
        "portfolioCreation",
        "--allow-writes",
        "--mode",
        "positive",
        "--max-examples",
        "30",
        "--phases",
        "examples,fuzzing",
        "--seed",
        "3",
        "--continue-on-failure",
        body=acknowledged,
        routes={"activeAuctionMarkets": market},
    )
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    found = [f for f in data["findings"] if f["where"] == "crr_broken_rule_refused"]
    assert found and "breaks a business rule (" in found[0]["text"], data["sections"][0]["facts"]


def test_a_refusal_that_is_not_about_the_broken_rule_is_not_counted_as_proof(dev_pki, tmp_path: Path) -> None:
    """A server that refuses every upload with the same business code (a closed window, say): the
    uploads breaking a rule are refused, but re-sent without the break they are refused the same
    way, and the report says the refusals were not shown to be about the rule."""
    market = json.dumps(
        [
            {
                "name": "2027_JAN_MONTHLY_AUC",
                "products": [
                    {"period": {"name": "JAN"}, "tou": "ON"},
                    {"period": {"name": "JAN"}, "tou": "OFF"},
                ],
            }
        ]
    ).encode()
    closed = json.dumps(
        {
            "errorList": [
                {
                    "errorCode": "MKT0004",
                    "errorDescription": "The market is not open for bids.",
                    "severity": "ERROR",
                }
            ],
            "creationTime": "2027-01-05T18:00:00Z",
        }
    ).encode()
    run, data = _fuzz_stub(
        dev_pki,
        tmp_path,
        "--service",
        "auction",
        "--operation",
        "portfolioCreation",
        "--allow-writes",
        "--mode",
        "positive",
        "--max-examples",
        "30",
        "--phases",
        "examples,fuzzing",
        "--seed",
        "3",
        status=400,
        body=closed,
        routes={"activeAuctionMarkets": market},
    )
    fact = data["sections"][0]["facts"]["business rules broken one at a time"]
    assert "refused the same way without the break, so not shown to be about it" in fact, fact
    assert "crr_broken_rule_refused" not in {f["where"] for f in data["findings"]}, data["findings"]


def test_offers_are_built_from_what_the_participant_holds(dev_pki, tmp_path: Path) -> None:
    """Sell offers name a CRR the participant holds (read from its existing-CRR downloads), buy
    offers two nodes of the market's node list, private ones another SC ID holding CRRs: so
    positive offer cases reach the secondary market's rules, and the offer rules broken on
    purpose are refused, shown to be about the rule."""
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--pki",
        str(dev_pki.directory),
        "--service",
        "secondary_market",
        "--operation",
        "postPublicSmSellOffers",
        "--operation",
        "postPrivateSmSellOffers",
        "--operation",
        "postPrivateSmBuyOffers",
        "--mode",
        "positive",
        "--phases",
        "examples,fuzzing",
        "--max-examples",
        "30",
        "--seed",
        "3",
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    data = json.loads(out.read_text())
    live = next(s for s in data["sections"] if s["title"] == "Live values")["facts"]
    assert "TH_NP15_GEN-APND to DLAP_PGAE-APND" in live["CRRs held (for sell offers)"], live
    assert "WCAL" in live["counterparties"] and "DLAP_VEA-APND" in live["biddable nodes"], live
    for case in data["cases"]:
        share = case["data"]["positive_business"] / case["data"]["positive"]
        assert share >= 0.3, (case["name"], case["message"])
    fact = data["sections"][0]["facts"]["business rules broken one at a time"]
    tallies = re.findall(r"([^:;]+): (\d+) of (\d+) refused", fact)
    offer_rules = {"an offer of a CRR nobody holds", "an offer of more MW than the CRR holds"}
    assert offer_rules & {rule.strip() for rule, _, _ in tallies}, (
        fact
    )  # the case picks the rule: one at least
    assert all(a == b for _, a, b in tallies), fact


def test_an_unbroken_copy_restores_only_the_broken_record() -> None:
    from harness.fuzz.bodies import Break

    body: dict[str, Any] = {"newBids": [{"source": "A"}, {"source": "B", "sink": "B"}], "portfolioName": "p"}
    unbroken = Break("the same node as source and sink", "newBids", 1, {"source": "B", "sink": "C"}).unbroken(
        body
    )
    assert unbroken == {"newBids": [{"source": "A"}, {"source": "B", "sink": "C"}], "portfolioName": "p"}
    assert body["newBids"][1]["sink"] == "B"  # the sent body is left as it was
    offers = [{"crrId": 9_999_999_999}]
    assert Break("an offer of a CRR nobody holds", None, 0, {"crrId": 7}).unbroken(offers) == [{"crrId": 7}]


def test_record_matching_ignores_added_ids_but_not_changed_fields() -> None:
    from harness.fuzz.checks.oracles import unmatched_records

    sent = [{"source": "A", "mw": 1.5}, {"source": "B", "mw": 2}]
    assert (
        unmatched_records(
            sent, [{"bidId": 7, "source": "B", "mw": 2}, {"bidId": 8, "source": "A", "mw": 1.5}]
        )
        == []
    )
    assert unmatched_records(sent, [{"source": "A", "mw": 1.5}, {"source": "B", "mw": 3}]) == [sent[1]]
    assert unmatched_records(sent, [{"bidId": 9}]) == sent  # nothing shared is no match


def test_only_the_creations_record_lists_are_read_back() -> None:
    """A generated body may add properties of its own (here a list named ""); a target rightly
    ignores them, so they are not records the read-back must find (a flaky failure once)."""
    from harness.fuzz.checks.oracles import records

    body = {"": [{}, {"z": 1}], "newNominations": [{"source": "A"}], "portfolioName": "p"}
    assert records(body, ("newNominations",)) == [{"source": "A"}]
    assert records({"nominations": [{"source": "A", "nominationId": 1}]}) == [
        {"source": "A", "nominationId": 1}
    ]


def test_the_request_budget_stops_the_run_and_says_so(dev_pki, tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--pki",
        str(dev_pki.directory),
        "--service",
        "market_status",
        "--service",
        "messages",
        "--max-requests",
        "40",
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert run.returncode in (0, 1, 6), run.stderr[-2000:]
    data = json.loads(out.read_text())
    facts = data["sections"][0]["facts"]
    assert facts["stopped early"] == "the request budget of 40 was spent"
    assert facts["request budget"] == "40 of 40"
    assert data["meta"]["calls"] <= 40 + 10  # the oracle's few re-sends are not part of the fuzz budget


def test_the_first_server_error_stops_a_shared_run(dev_pki, tmp_path: Path) -> None:
    run, data = _fuzz_stub(
        dev_pki,
        tmp_path,
        "--service",
        "market_status",
        status=500,
        body=b'{"errorList":[{"errorCode":"SER0028","errorDescription":"x","severity":"ERROR"}]}',
    )
    assert run.returncode == 1
    assert data["sections"][0]["facts"]["stopped early"].startswith("the first server error (HTTP 500")
    assert data["meta"]["calls"] < 20


@pytest.mark.official_specs
def test_caisos_own_files_pass_with_their_deviations_listed(
    official_specs: Path, dev_pki, tmp_path: Path
) -> None:
    """The sandbox serving CAISO's published files, fuzzed by them: every operation, no failure,
    the files' known self-contradictions reported as such (warnings)."""
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--specs",
        str(official_specs),
        "--pki",
        str(dev_pki.directory),
        "--max-examples",
        "3",
        "--json",
        str(out),
        cwd=tmp_path,
    )
    # 6: CAISO's example participantName (CISO) keeps some positive cases from business logic, and an
    # operation none of whose positive cases got there is not covered: INCOMPLETE, never PASSED
    assert run.returncode in (0, 6), run.stdout[-3000:] + run.stderr[-2000:]
    data = json.loads(out.read_text())
    assert len(data["cases"]) == 69 and data["counts"]["failed"] == 0 and data["findings"] == []
    assert data["verdict"] == ("PASSED" if run.returncode == 0 else "INCOMPLETE")
    assert all("reached business logic" in gap["what"] for gap in data["gaps"]), data["gaps"]
    warned = [c for c in data["cases"] if c["status"] == "warning"]
    assert any("nomination" in c["name"] for c in warned) and any(c["name"] == "GET /status" for c in warned)
    links = [s for s in data["sections"] if s["title"].startswith("Links added")]
    assert links and links[0]["text"], (
        "CAISO's files declare no links: ours should be added for the stateful phase"
    )


def test_a_failure_has_a_support_bundle_and_replays(dev_pki, tmp_path: Path) -> None:
    server = _serve(dev_pki, 200, "text/html", b"<html>Sign in</html>")
    try:
        ecal = dev_pki.identities["ecal"]
        url = f"https://127.0.0.1:{server.server_address[1]}/crr"
        common = [
            "--url",
            url,
            "--cert",
            str(ecal.cert),
            "--key",
            str(ecal.key),
            "--ca",
            str(dev_pki.ca_cert),
        ]
        out = tmp_path / "fuzz.json"
        run = crrsim(
            "fuzz",
            *common,
            "--service",
            "app_status",
            "--max-examples",
            "2",
            "--rate",
            "500",
            "--phases",
            "examples",
            "--seed",
            "11",
            "--json",
            str(out),
            cwd=tmp_path,
        )
        assert run.returncode == 1, run.stderr[-2000:]
        finding = json.loads(out.read_text())["findings"][0]
        ident = finding["text"].split("crrsim fuzz --replay ")[1].rstrip(")")
        bundle = json.loads((tmp_path / "reports" / "fuzz" / "failures" / f"{ident}.json").read_text())
        assert bundle["seed"] == 11 and bundle["operation"] == "GET /status" and bundle["caiso_request_id"]
        assert bundle["response"]["status"] == 200 and bundle["contract"] == {"app_status": "1.0.1"}
        assert bundle["replay"] == f"crrsim fuzz --replay {ident}" and "--cert" in bundle["curl"]
        replay = crrsim("fuzz", *common, "--replay", ident, cwd=tmp_path)
        # the same HTML page still answers: the check runs again and still fails (exit 1)
        assert replay.returncode == 1, replay.stdout[-2000:] + replay.stderr[-2000:]
        assert (
            "-> HTTP 200" in replay.stdout and "STILL FAILS: HTML page answered with success" in replay.stdout
        )
        unknown = crrsim("fuzz", *common, "--replay", "000000000000", cwd=tmp_path)
        assert unknown.returncode == 2 and "no recorded failure 000000000000" in unknown.stderr
    finally:
        server.shutdown()


def _prepared_sandbox(dev_pki, db: Path, **faults: object):  # noqa: ANN202 - RunningSandbox
    from harness.client import ClientIdentity, CRRClient
    from harness.client.control import ControlPlane
    from harness.sandbox.launch import start_sandbox

    running = start_sandbox(dev_pki.directory, db, **faults)  # type: ignore[arg-type]
    operator = dev_pki.identities["operator"]
    with CRRClient(
        running.url, identity=ClientIdentity.from_pem(operator.cert, operator.key), ca=dev_pki.ca_cert
    ) as client:
        ControlPlane(client).reset()
        ControlPlane(client).set_clock("2026-02-04T18:00:00Z")
    return running


@pytest.mark.parametrize("faulty", [False, True])
def test_differential_mode_lists_where_the_target_and_the_sandbox_differ(
    dev_pki, tmp_path: Path, faulty: bool
) -> None:
    extra = {"faults": "undocumented-status", "fault_rate": 1.0} if faulty else {}
    target = _prepared_sandbox(dev_pki, tmp_path / "target.db", **extra)
    try:
        out = tmp_path / "fuzz.json"
        run = crrsim(
            "fuzz",
            "--url",
            target.url,
            "--pki",
            str(dev_pki.directory),
            "--service",
            "market_status",
            "--compare-with",
            "sandbox",
            "--max-examples",
            "3",
            "--rate",
            "500",
            "--phases",
            "examples,fuzzing",
            "--no-stop-on-5xx",
            "--json",
            str(out),
            cwd=tmp_path,
        )
    finally:
        target.stop()
    assert run.returncode in (0, 1, 6), run.stderr[-2000:]
    data = json.loads(out.read_text())
    lines = next(s for s in data["sections"] if s["title"] == "Divergences from the sandbox")["text"]
    assert data["meta"]["compared"] > 10
    if faulty:
        assert data["meta"]["divergences"] > 0
        assert any("status 418 here, 200 on the sandbox" in line for line in lines), lines
    else:
        assert data["meta"]["divergences"] == 0, lines
    assert "a comparison sends read operations only" in json.dumps(data["sections"])


def test_market_valid_uploads_include_big_ones_up_to_the_limit() -> None:
    import random

    from harness.fuzz.bodies import MAX_RECORDS, valid_records
    from harness.fuzz.live import LiveValues

    live = LiveValues("ECAL", "run")
    sizes = [len(valid_records("auction", live, [("JAN", "ON")], random.Random(seed))) for seed in range(200)]
    assert min(sizes) == 1 and 100 <= max(sizes) <= MAX_RECORDS
    assert 0 < sum(size >= 100 for size in sizes) < 60  # about one in eight


def test_submissions_must_name_the_owner_on_the_sandbox(dev_pki, tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--pki",
        str(dev_pki.directory),
        "--service",
        "auction",
        "--service",
        "nomination",
        "--max-examples",
        "10",
        "--seed",
        "3",
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    fact = json.loads(out.read_text())["sections"][0]["facts"]["read-back oracle"]
    assert int(re.search(r"(\d+) successful submissions and retractions re-sent", fact).group(1)) > 0, fact


def test_a_target_acting_without_the_owner_named_is_reported(dev_pki, tmp_path: Path) -> None:
    """A gateway that acknowledges every submission, whoever is named as participant."""
    status = json.dumps({"portfolioName": "p", "marketName": "m", "status": "SUBMITTED"}).encode()
    run, data = _fuzz_stub(
        dev_pki,
        tmp_path,
        "--service",
        "auction",
        "--operation",
        "portfolioSubmission",
        "--allow-writes",
        "--mode",
        "positive",
        "--max-examples",
        "5",
        "--phases",
        "examples,fuzzing",
        "--continue-on-failure",
        body=status,
    )
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    found = [f for f in data["findings"] if f["where"] == "crr_owner_must_be_named"]
    assert found and "participantName = portfolioName" in found[0]["text"], data["findings"][:3]


def test_a_refused_oversized_head_is_a_known_deviation_not_a_finding() -> None:
    """schemathesis' unsupported-method probe once carried a 9 KB head; the sandbox (like a gateway)
    refused it with 400 before routing, and the run failed on 'expected 405'."""
    from types import SimpleNamespace

    from harness.fuzz.checks.deviations import HEAD_LIMIT, OVERSIZED_HEAD, known_deviation
    from harness.sandbox.web.guard import MAX_HEAD

    assert HEAD_LIMIT == MAX_HEAD
    big = SimpleNamespace(
        method="QUERY", uri="https://127.0.0.1:8443/crr/x?a=1", headers={"X-Big": ["y" * 9000]}
    )
    small = SimpleNamespace(method="QUERY", uri="https://127.0.0.1:8443/crr/x", headers={"X-Small": ["y"]})
    assert known_deviation("unsupported_method", "auction", "portfolioCreation", big, 400) == OVERSIZED_HEAD
    assert known_deviation("unsupported_method", "auction", "portfolioCreation", small, 400) is None
    assert known_deviation("unsupported_method", "auction", "portfolioCreation", big, 200) is None
    # the table: once per operation, by service and operationId
    assert known_deviation("crr_error_body", "app_status", "get-status", None, 400) is not None
    assert known_deviation("crr_error_body", "auction", "get-status", None, 400) is None


def test_a_replay_sends_exactly_what_was_recorded_and_judges_again(dev_pki, tmp_path: Path) -> None:
    """A failure about a missing caiso-request-id is re-sent without one (the old replay added
    it, got 200 and exited 0); the check runs again: still fails, exit 1. Against a server that
    now refuses it, the same replay says it no longer fails, exit 0."""
    server = _serve(dev_pki, 200, "application/json", b"{}")
    ecal = dev_pki.identities["ecal"]
    common = ["--cert", str(ecal.cert), "--key", str(ecal.key), "--ca", str(dev_pki.ca_cert)]
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/crr"
        out = tmp_path / "fuzz.json"
        run = crrsim(
            "fuzz",
            "--url",
            url,
            *common,
            "--service",
            "app_status",
            "--max-examples",
            "2",
            "--rate",
            "500",
            "--phases",
            "coverage",
            "--seed",
            "5",
            "--json",
            str(out),
            cwd=tmp_path,
        )
        assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
        missing = next(
            f for f in json.loads(out.read_text())["findings"] if f["where"] == "missing_required_header"
        )
        ident = missing["reproduce"].split("--replay ")[1]
        bundle = json.loads((tmp_path / "reports" / "fuzz" / "failures" / f"{ident}.json").read_text())
        assert not any(k.lower() == "caiso-request-id" for k in bundle["request"]["headers"]), bundle[
            "request"
        ]
        again = crrsim("fuzz", "--url", url, *common, "--replay", ident, cwd=tmp_path)
        assert again.returncode == 1, again.stdout[-2000:] + again.stderr[-2000:]
        assert "STILL FAILS" in again.stdout and "-> HTTP 200" in again.stdout
    finally:
        server.shutdown()
    # the same recorded call against a target that refuses it now (the sandbox: 400 SER0017)
    target = _prepared_sandbox(dev_pki, tmp_path / "fixed.db")
    try:
        fixed = crrsim("fuzz", "--url", target.url, *common, "--replay", ident, cwd=tmp_path)
    finally:
        target.stop()
    assert fixed.returncode == 0, fixed.stdout[-2000:] + fixed.stderr[-2000:]
    assert "NO LONGER FAILS" in fixed.stdout and "-> HTTP 400" in fixed.stdout
