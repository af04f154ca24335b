"""Benchmark with wrk: the crrsim sandbox (mTLS, ``--workers 2``) against Stoplight Prism, same requests.

Same rows as ``sandbox_vs_prism.py`` (GET /status, GET portfolioList of 5 x 10 bids, POST a
maximum-size portfolio with a unique name per request; 16 and 64 keep-alive connections), but
driven by wrk, which costs the 2-core machine far less than the Python load generator and is
the tool Prism's published figures were taken with. wrk has no client-certificate option: an
``LD_PRELOAD`` shim (``wrk/wrk_client_cert.c``, built here into ``bench/build/``) loads a PEM
certificate and key into every OpenSSL context wrk creates. Lua scripts (``wrk/*.lua``) send a
fresh ``caiso-request-id`` per request and, for the POST, a unique portfolio name.

    .venv/bin/python bench/wrk_vs_prism.py [--duration 10] [--connections 16,64] [--workers 2]
        [--rows status,list,create] [--tree LABEL=DIR ...] [--no-prism]

``--tree LABEL=DIR`` adds a sandbox run from another source tree (e.g. a copy of the code before
a change) to the same table, so before/after/Prism are measured in one run on one machine.
Installs wrk (apt-get) and builds the shim (gcc, libssl-dev) if missing. Writes
``bench/results/wrk_vs_prism-<UTC time>.md`` (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

from sandbox_vs_prism import (  # noqa: E402
    AUC,
    PRISM,
    SPECS,
    max_portfolio_template,
    seed_sandbox,
    start_prism,
    write_results,
)

WRK_DIR = BENCH / "wrk"
BUILD = BENCH / "build"
SHIM_SRC = WRK_DIR / "wrk_client_cert.c"
SHIM = BUILD / "wrk_client_cert.so"
LIST_QUERY = f"marketName={AUC}&participantName=WCAL"
ROWS = {
    # key: (label, sandbox path, Prism spec, cert, lua script)
    "status": ("GET /status", "/status", "app_status", "ecal", "get.lua"),
    "list": (
        "GET portfolioList (5 x 10 bids)",
        f"/auction/v1.0/portfolioList?{LIST_QUERY}",
        "auction",
        "wcal",
        "get.lua",
    ),
    "create": (
        "POST portfolioCreation 500x20",
        "/auction/v1.0/portfolioCreation",
        "auction",
        "ecal",
        "post.lua",
    ),
}
PRISM_SPECS = {"app_status": "caiso_crr_app_status_v1.0.1.yaml", "auction": "caiso_crr_auction_v1.2.1.yaml"}


def ensure_tools() -> str:
    """wrk and the client-certificate shim, installed/built on first use."""
    wrk = shutil.which("wrk")
    if wrk is None or not Path("/usr/include/openssl/ssl.h").exists():
        subprocess.run(["apt-get", "install", "-y", "wrk", "libssl-dev", "gcc"], check=True)
        wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed and apt-get could not install it")
    if not SHIM.exists() or SHIM.stat().st_mtime < SHIM_SRC.stat().st_mtime:
        BUILD.mkdir(exist_ok=True)
        subprocess.run(
            ["gcc", "-shared", "-fPIC", "-O2", "-o", str(SHIM), str(SHIM_SRC), "-ldl", "-lssl"], check=True
        )
    return wrk


def tree_cpu_ticks(pid: int) -> int:
    """User + system clock ticks of a process and all its descendants (server + workers)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


@dataclass
class Result:
    rps: float
    p50: str
    p99: str
    requests: int
    non2xx: int
    errors: str
    cpu_us: float | None


def _unit_ms(text: str) -> str:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text or "")
    if not m:
        return text or "-"
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]
    return f"{float(m.group(1)) * scale:.1f}"


def run_wrk(
    wrk: str, url: str, script: str, conns: int, duration: float, env: dict[str, str], server_pid: int | None
) -> Result:
    before = tree_cpu_ticks(server_pid) if server_pid else 0
    out = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{conns}",
            f"-d{duration:g}s",
            "--timeout",
            "30s",
            "--latency",
            "-s",
            str(WRK_DIR / script),
            url,
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    after = tree_cpu_ticks(server_pid) if server_pid else 0
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    n = re.search(r"(\d+) requests in", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    err = re.search(r"Socket errors: (.*)", out)
    count = int(n.group(1)) if n else 0
    tick_us = 1_000_000 / os.sysconf("SC_CLK_TCK")
    return Result(
        rps=float(rps.group(1)) if rps else 0.0,
        p50=_unit_ms(p50.group(1) if p50 else ""),
        p99=_unit_ms(p99.group(1) if p99 else ""),
        requests=count,
        non2xx=int(bad.group(1)) if bad else 0,
        errors=err.group(1) if err else "",
        cpu_us=(after - before) * tick_us / count if server_pid and count else None,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description="crrsim sandbox vs Stoplight Prism, driven by wrk")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--connections", default="16,64")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rows", default="status,list,create")
    ap.add_argument("--tree", action="append", default=[], help="LABEL=DIR: also run a sandbox from DIR")
    ap.add_argument("--no-prism", action="store_true")
    a = ap.parse_args()
    wrk = ensure_tools()
    if not a.no_prism and not PRISM.exists():
        sys.exit("Prism is missing: run `npm install` in bench/ first (or pass --no-prism)")

    from harness.pki import ensure_dev_pki
    from harness.sandbox.launch import start_sandbox

    work = Path(tempfile.mkdtemp(prefix="crrsim-wrk-"))
    # the sandbox runs `python -m harness ...` in our working directory, which comes first on its
    # sys.path: leave the repo so that --tree's PYTHONPATH (and otherwise the installed package) decides
    os.chdir(work)
    pki = ensure_dev_pki(work / "pki", password="bench-only")
    template = work / "portfolio.tmpl.json"
    template.write_bytes(max_portfolio_template("ECAL"))
    conns = [int(c) for c in a.connections.split(",")]
    rows = [r for r in a.rows.split(",") if r]
    trees = [("sandbox", None), *(tuple(t.split("=", 1)) for t in a.tree)]
    results: list[tuple[str, int, str, Result]] = []

    def report(label: str, c: int, server: str, r: Result) -> None:
        results.append((label, c, server, r))
        cpu = f"{r.cpu_us:,.0f} us/req" if r.cpu_us is not None else "-"
        print(
            f"{label:<34} c={c:<3} {server:<24} {r.rps:>9.1f} req/s p50 {r.p50} ms p99 {r.p99} ms "
            f"cpu {cpu} non2xx {r.non2xx} {r.errors}",
            flush=True,
        )

    def wait_idle() -> None:
        time.sleep(2)  # let the previous row's connections drain

    for tree_label, tree in trees:
        env = {"PYTHONPATH": str(tree)} if tree else None
        label = f"{tree_label} (mTLS, {a.workers} workers)"
        # trees from before the sandbox was served by the click CLI start with -m harness.sandbox
        legacy = tree is not None and (Path(tree) / "harness" / "sandbox" / "__main__.py").is_file()
        entry = ("-m", "harness.sandbox") if legacy else ("-m", "harness", "sandbox", "serve")
        sandbox = start_sandbox(
            pki.directory, work / f"{tree_label}.db", workers=a.workers, env=env, entry=entry
        )
        try:
            seed_sandbox(sandbox.url, pki)
            for key in rows:
                title, path, _, who, script = ROWS[key]
                files = pki.identities[who]
                shim_env = {
                    "LD_PRELOAD": str(SHIM),
                    "WRK_CLIENT_CERT": str(files.cert),
                    "WRK_CLIENT_KEY": str(files.key),
                    "BODY_TEMPLATE": str(template),
                }
                for c in conns:
                    wait_idle()
                    report(
                        title,
                        c,
                        label,
                        run_wrk(wrk, sandbox.url + path, script, c, a.duration, shim_env, sandbox.pid),
                    )
        finally:
            sandbox.stop()

    if not a.no_prism:
        for spec in sorted({ROWS[k][2] for k in rows}):
            proc, port = start_prism(SPECS / PRISM_SPECS[spec])
            try:
                for key in rows:
                    title, path, row_spec, _, script = ROWS[key]
                    if row_spec != spec:
                        continue
                    for c in conns:
                        wait_idle()
                        report(
                            title,
                            c,
                            "Prism (HTTP)",
                            run_wrk(
                                wrk,
                                f"http://127.0.0.1:{port}{path}",
                                script,
                                c,
                                a.duration,
                                {"BODY_TEMPLATE": str(template)},
                                proc.pid,
                            ),
                        )
            finally:
                proc.terminate()
                proc.wait(10)

    lines = [
        f"# crrsim sandbox vs Stoplight Prism, wrk ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Load: wrk -t1, keep-alive, {a.duration:g} s per row, fresh caiso-request-id (and portfolio name) per "
        f"request; sandbox --workers {a.workers}; {os.cpu_count()} cores shared by wrk and the servers. "
        "Server CPU = CPU time of the server's process tree per request.",
        "",
        "| request | conns | server | req/s | p50 ms | p99 ms | server CPU us/req | non-2xx | socket errors |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for title, c, server, r in sorted(
        results, key=lambda x: (list(ROWS).index(next(k for k, v in ROWS.items() if v[0] == x[0])), x[1])
    ):
        cpu = f"{r.cpu_us:,.0f}" if r.cpu_us is not None else "-"
        lines.append(
            f"| {title} | {c} | {server} | {r.rps:,.1f} | {r.p50} | {r.p99} | {cpu} | {r.non2xx} | "
            f"{r.errors or '-'} |"
        )
    write_results("wrk_vs_prism", lines)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
