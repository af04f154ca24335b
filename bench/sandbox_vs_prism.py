"""Benchmark: the crrsim sandbox (mTLS, stateful) against Stoplight Prism (plain HTTP mock), same load.

Rows: GET /status, GET auction portfolioList (a fixed list: 5 portfolios x 10 bids), POST auction
portfolioCreation with a maximum-size valid portfolio (500 bids x 20 points, a unique name per
request), each at 16 and 64 keep-alive connections, driven by ``bench/loadgen.py`` for both
servers. Also measures the load generator's own ceiling against a trivial TLS server.

    .venv/bin/python bench/sandbox_vs_prism.py [--duration 10] [--processes 1]

Needs ``npm install`` in bench/ (Prism into bench/node_modules). Writes bench/results/*.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

from loadgen import Spec, run  # noqa: E402

SPECS = REPO / "harness" / "contract" / "specs"
AUC = "AUC_MN_2026_M03"
PRISM = BENCH / "node_modules" / ".bin" / "prism"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def max_portfolio_template(participant: str) -> bytes:
    curve = [{"mw": round(i * 1.5, 3), "price": round(100 - i * 2.5, 2)} for i in range(20)]
    bids = [
        {
            "assetOwner": participant,
            "source": "TH_NP15_GEN-APND",
            "sink": "DLAP_PGAE-APND",
            "hedgeType": "OBL",
            "tou": ("ON", "OFF")[i % 2],
            "period": "2026_M03",
            "crrType": "AUC",
            "bidCurve": curve,
            "description": f"bench bid {i}",
        }
        for i in range(500)
    ]
    body = {
        "portfolioName": "@NAME@",
        "marketName": AUC,
        "participantName": participant,
        "newBids": bids,
        "newOffers": [],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def seed_sandbox(url: str, pki: Any) -> None:
    """The benchmark's state: the plan, AUC open, WCAL's 5 x 10-bid portfolios; checks a max-size upload."""
    from harness.client import ClientIdentity, CRRClient
    from harness.client.control import ControlPlane

    def client(name: str) -> CRRClient:
        f = pki.identities[name]
        return CRRClient(url, identity=ClientIdentity.from_pem(f.cert, f.key), ca=pki.ca_cert, retries=0)

    ControlPlane(client("operator")).setup_plan()
    ControlPlane(client("operator")).open_window(AUC, "30d")
    wcal = client("wcal")
    small = json.loads(max_portfolio_template("WCAL"))
    small["newBids"] = small["newBids"][:10]
    for i in range(5):
        r = wcal.request(
            "POST", "/auction/v1.0/portfolioCreation", json={**small, "portfolioName": f"listed {i}"}
        )
        assert r.status == 200, r.body
    body = max_portfolio_template("ECAL")
    probe = client("ecal").request(
        "POST", "/auction/v1.0/portfolioCreation", json=json.loads(body.replace(b"@NAME@", b"probe"))
    )
    assert probe.status == 200, probe.body


def start_prism(spec_file: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [str(PRISM), "mock", "-v", "silent", "-h", "127.0.0.1", "-p", str(port), str(spec_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    return proc, port


def _trivial_tls_server(cert: str, key: str, ca: str, port_q: Any) -> None:
    """A do-nothing mTLS HTTP server: its numbers are the load generator's ceiling."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(cert, key)
    reply = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"status":"UP"}'

    class Proto(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.t, self.buf = transport, b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            while b"\r\n\r\n" in self.buf:
                _, _, self.buf = self.buf.partition(b"\r\n\r\n")
                self.t.write(reply)

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Proto, "127.0.0.1", 0, ssl=ctx)
        port_q.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


def main() -> None:
    ap = argparse.ArgumentParser(description="crrsim sandbox vs Stoplight Prism")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--processes", type=int, default=1, help="load generator processes")
    ap.add_argument("--connections", default="16,64")
    a = ap.parse_args()
    if not PRISM.exists():
        sys.exit("Prism is missing: run `npm install` in bench/ first")

    from harness.pki import ensure_dev_pki
    from harness.sandbox.launch import start_sandbox

    work = Path(tempfile.mkdtemp(prefix="crrsim-bench-"))
    pki = ensure_dev_pki(work / "pki", password="bench-only")
    sandbox = start_sandbox(pki.directory, work / "crr.db")
    procs: list[Any] = []
    try:
        seed_sandbox(sandbox.url, pki)
        body = max_portfolio_template("ECAL")

        prism_status, status_port = start_prism(SPECS / "caiso_crr_app_status_v1.0.1.yaml")
        prism_auction, auction_port = start_prism(SPECS / "caiso_crr_auction_v1.2.1.yaml")
        procs += [prism_status, prism_auction]
        port_q: Any = mp.get_context("fork").Queue()
        idle = mp.get_context("fork").Process(
            target=_trivial_tls_server,
            args=(str(pki.server_cert), str(pki.server_key), str(pki.ca_cert), port_q),
            daemon=True,
        )
        idle.start()
        procs.append(idle)
        idle_port = port_q.get()

        def tls_of(name: str) -> dict[str, str]:
            f = pki.identities[name]
            return {"ca": str(pki.ca_cert), "cert": str(f.cert), "key": str(f.key)}

        tls = tls_of("ecal")
        list_q = f"?marketName={AUC}&participantName=WCAL"
        rows = [
            ("GET /status", "GET", "/status", None, status_port, "ecal"),
            (
                "GET portfolioList (5 x 10 bids)",
                "GET",
                f"/auction/v1.0/portfolioList{list_q}",
                None,
                auction_port,
                "wcal",
            ),
            (
                "POST portfolioCreation 500x20",
                "POST",
                "/auction/v1.0/portfolioCreation",
                body,
                auction_port,
                "ecal",
            ),
        ]
        results: list[tuple[str, int, str, dict[str, Any]]] = []
        conns = [int(c) for c in a.connections.split(",")]
        for c in conns:
            spec = Spec("127.0.0.1", idle_port, "GET", "/status", None, c, a.duration / 2, 1, **tls)
            results.append(("load generator ceiling (trivial mTLS server)", c, "-", run(spec, a.processes)))
        for label, method, path, payload, prism_port, who in rows:
            for c in conns:
                s = Spec(
                    "127.0.0.1",
                    sandbox.port,
                    method,
                    "/crr" + path,
                    payload,
                    c,
                    a.duration,
                    a.warmup,
                    **tls_of(who),
                )
                results.append((label, c, "sandbox (mTLS)", run(s, a.processes)))
                p = Spec("127.0.0.1", prism_port, method, path, payload, c, a.duration, a.warmup)
                results.append((label, c, "Prism (HTTP)", run(p, a.processes)))
                for res in results[-2:]:
                    print(
                        f"{res[0]:<46} c={c:<3} {res[2]:<15} {res[3]['rps']:>9.1f} req/s "
                        f"p50 {res[3]['p50_ms']:.1f} ms p99 {res[3]['p99_ms']:.1f} ms {res[3]['statuses']}",
                        flush=True,
                    )
    finally:
        for p in procs:
            if isinstance(p, subprocess.Popen):
                p.terminate()
                p.wait(10)
            else:
                p.terminate()
        sandbox.stop()

    lines = [
        f"# crrsim sandbox vs Stoplight Prism ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Load: bench/loadgen.py, {a.processes} process(es), keep-alive, {a.duration:g} s per row after "
        f"{a.warmup:g} s warm-up, fresh caiso-request-id (and portfolio name) per request; {mp.cpu_count()} cores.",
        "",
        "| request | conns | server | req/s | p50 ms | p99 ms | statuses |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for label, c, server, r in results:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
        lines.append(
            f"| {label} | {c} | {server} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{statuses} |"
        )
    write_results("sandbox_vs_prism", lines)


def write_results(stem: str, lines: list[str]) -> Path:
    """Print the markdown table and keep it in bench/results/<stem>-<UTC time>.md (git-ignored)."""
    table = "\n".join(lines) + "\n"
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{stem}-{datetime.now(UTC):%Y%m%dT%H%M%S}.md"
    path.write_text(table)
    print()
    print(table)
    print(f"written to {path}")
    return path


if __name__ == "__main__":
    main()
