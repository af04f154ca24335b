"""Do the probe's ten service calls really run concurrently?

Target: probing all 10 services takes at most 1.5 x the slowest single service call.

Measured on loopback against a real sandbox (own dev PKI in a temp dir, own process), with
exactly the probe's code path (``harness.probe.services``: one AsyncCRRClient, a fresh TLS
connection per call). Per round:

* isolated: each service's call alone, one after the other (fresh client each time);
* concurrent: all ten at once, as ``crrsim probe`` does, timing the whole step (wall) and
  noting each call's own latency inside that run.

Two ratios are printed, medians over the rounds:

* ``wall / slowest call in the same run``: <= 1.5 means the calls overlap (serial calls would
  give about 10). This is the pass/fail criterion.
* ``wall / slowest isolated call``: how much ten calls cost compared with one. On loopback
  every call is pure CPU (TLS handshakes on both sides of a 2-core box, a single-threaded
  sandbox), so this ratio shows CPU contention, not a lack of concurrency. Over a real
  network, where a call mostly waits, it approaches the first ratio.

Usage: python bench/probe_concurrency.py [--rounds 5] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness.client import AsyncCRRClient, ClientIdentity
from harness.pki import ensure_dev_pki
from harness.probe.services import call_one, probe_services, reads_for
from harness.sandbox.launch import start_sandbox

TARGET_RATIO = 1.5


async def one_round(url: str, identity: ClientIdentity, ca: Path) -> dict[str, float]:
    reads = reads_for(None)
    singles: dict[str, float] = {}
    for name, op in sorted(reads.items()):
        async with AsyncCRRClient(url, identity=identity, ca=ca, retries=0) as client:
            started = time.perf_counter()
            result = await call_one(client, op, "ECAL")
            singles[name] = time.perf_counter() - started
            assert result.ok, (name, result.diagnosis)
    async with AsyncCRRClient(url, identity=identity, ca=ca, retries=0, max_connections=len(reads)) as client:
        started = time.perf_counter()
        results = await probe_services(client, reads, "ECAL", timeout=30.0)
        wall = time.perf_counter() - started
    assert all(r.ok for r in results), [r.diagnosis for r in results if not r.ok]
    return {
        "slowest_isolated": max(singles.values()),
        "sum_isolated": sum(singles.values()),
        "wall": wall,
        "slowest_in_run": max(r.latency_s or 0.0 for r in results),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1, help="sandbox worker processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crrsim-bench-") as tmp:
        pki = ensure_dev_pki(Path(tmp) / "pki", password="bench-only")
        sandbox = start_sandbox(pki.directory, Path(tmp) / "crr.db", workers=args.workers)
        try:
            files = pki.files("ecal")
            identity = ClientIdentity.from_pem(files.cert, files.key)
            asyncio.run(one_round(sandbox.url, identity, pki.ca_cert))  # warm-up: imports, first connections
            rounds = [asyncio.run(one_round(sandbox.url, identity, pki.ca_cert)) for _ in range(args.rounds)]
        finally:
            sandbox.stop()

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    ratio_run = statistics.median(r["wall"] / r["slowest_in_run"] for r in rounds)
    ratio_isolated = statistics.median(r["wall"] / r["slowest_isolated"] for r in rounds)
    print(f"probe concurrency on loopback, {args.rounds} rounds, sandbox workers={args.workers} (medians)")
    print(f"  slowest single service call, isolated : {med('slowest_isolated') * 1000:7.1f} ms")
    print(f"  all ten isolated calls one after other: {med('sum_isolated') * 1000:7.1f} ms")
    print(f"  all ten services probed concurrently  : {med('wall') * 1000:7.1f} ms")
    print(f"  slowest call inside the concurrent run: {med('slowest_in_run') * 1000:7.1f} ms")
    print(f"  ratio wall / slowest call in the run  : {ratio_run:7.2f}  (target <= {TARGET_RATIO})")
    print(f"  ratio wall / slowest isolated call    : {ratio_isolated:7.2f}  (CPU contention on loopback)")
    print(f"  speed-up over sequential calls        : {med('sum_isolated') / med('wall'):7.2f}x")
    ok = ratio_run <= TARGET_RATIO
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
