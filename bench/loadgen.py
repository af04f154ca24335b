"""A small closed-loop HTTP/1.1 load generator: keep-alive, optional mutual TLS, a fresh body per request.

Why our own: wrk and h2load cannot present a client certificate, ab sends one fixed body, and
vegeta is not packaged for this Debian. This one does what the comparison needs and nothing
else: N persistent connections (split over P processes), each sending its next request as soon
as the previous response is fully read; every request gets a fresh ``caiso-request-id`` and,
where the body template holds ``@NAME@``, a unique portfolio name. Latency is measured per
request from the first byte written to the last byte of the response read.

Run ``python bench/loadgen.py --help`` for a single run; ``sandbox_vs_prism.py`` drives it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import ssl
import time
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class Spec:
    host: str
    port: int
    method: str
    path: str
    body: bytes | None  # template; b"@NAME@" is replaced by a unique name per request
    connections: int
    duration: float
    warmup: float
    ca: str | None = None
    cert: str | None = None
    key: str | None = None


def _ssl(spec: Spec) -> ssl.SSLContext | None:
    if not spec.ca:
        return None
    ctx = ssl.create_default_context(cafile=spec.ca)
    if spec.cert:
        ctx.load_cert_chain(spec.cert, spec.key)
    return ctx


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lname = name.strip().lower()
        if lname == b"content-length":
            length = int(value)
        elif lname == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _connection(
    spec: Spec, ctx: ssl.SSLContext | None, tag: str, start: float, stop: float, out: dict[str, Any]
) -> None:
    reader, writer = await asyncio.open_connection(
        spec.host, spec.port, ssl=ctx, server_hostname=spec.host if ctx else None
    )
    prefix, _, suffix = (spec.body or b"").partition(b"@NAME@")
    has_name = spec.body is not None and b"@NAME@" in spec.body
    n = 0
    head_fixed = (
        f"{spec.method} {spec.path} HTTP/1.1\r\nHost: {spec.host}:{spec.port}\r\n"
        "Accept: application/json\r\nConnection: keep-alive\r\n"
    ).encode()
    try:
        while True:
            now = time.perf_counter()
            if now >= stop:
                break
            n += 1
            body = prefix + f"{tag}-{n}".encode() + suffix if has_name else spec.body
            headers = head_fixed + f"caiso-request-id: {uuid.uuid4()}\r\n".encode()
            if body is not None:
                headers += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
            writer.write(headers + b"\r\n" + (body or b""))
            t0 = time.perf_counter()
            status = await _read_response(reader)
            t1 = time.perf_counter()
            if t0 >= start:
                out["lat"].append(t1 - t0)
                out["status"][status] = out["status"].get(status, 0) + 1
    finally:
        writer.close()


def _worker(spec: Spec, conns: int, index: int, queue: Any) -> None:
    async def main() -> dict[str, Any]:
        ctx = _ssl(spec)
        out: dict[str, Any] = {"lat": [], "status": {}}
        begin = time.perf_counter()
        start, stop = begin + spec.warmup, begin + spec.warmup + spec.duration
        tag = f"b{os.getpid()}x{uuid.uuid4().hex[:6]}"
        await asyncio.gather(*(_connection(spec, ctx, f"{tag}c{i}", start, stop, out) for i in range(conns)))
        return out

    queue.put(asyncio.run(main()))


def run(spec: Spec, processes: int = 1) -> dict[str, Any]:
    """Run the load; returns requests/s, p50/p99 (ms), status counts."""
    queue: Any = mp.get_context("fork").Queue()
    share = [
        spec.connections // processes + (1 if i < spec.connections % processes else 0)
        for i in range(processes)
    ]
    procs = [
        mp.get_context("fork").Process(target=_worker, args=(spec, c, i, queue))
        for i, c in enumerate(share)
        if c
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    lat = sorted(x for r in results for x in r["lat"])
    statuses: dict[int, int] = {}
    for r in results:
        for k, v in r["status"].items():
            statuses[k] = statuses.get(k, 0) + v

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")

    return {
        "requests": len(lat),
        "rps": len(lat) / spec.duration,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "statuses": statuses,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url_host")
    ap.add_argument("port", type=int)
    ap.add_argument("path")
    ap.add_argument("--method", default="GET")
    ap.add_argument("--body-file")
    ap.add_argument("-c", "--connections", type=int, default=16)
    ap.add_argument("-p", "--processes", type=int, default=1)
    ap.add_argument("-d", "--duration", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--ca")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    body = open(a.body_file, "rb").read() if a.body_file else None  # noqa: SIM115
    spec = Spec(
        a.url_host, a.port, a.method, a.path, body, a.connections, a.duration, a.warmup, a.ca, a.cert, a.key
    )
    print(json.dumps(run(spec, a.processes)))


if __name__ == "__main__":
    main()
