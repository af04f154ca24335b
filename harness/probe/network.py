"""Step 2: can this machine reach the server at all (name resolution, TCP connect)?

Timed separately from TLS so a participant can tell a firewall or proxy problem from a
certificate problem.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

from harness.client.reach import connect_failure, name_failure
from harness.probe.deadline import Deadline
from harness.probe.model import Check, CheckStatus, make_check

# RFC 6761 6.4: resolvers "SHOULD always return immediately with a negative response" for
# .invalid names. We honour that ourselves, so probing such a name never sends a DNS query.
NEVER_RESOLVES = (".invalid",)


async def resolve(host: str, port: int, deadline: Deadline) -> tuple[Check, list[str]]:
    title = "DNS resolution"
    started = time.perf_counter()
    if host.rstrip(".").lower().endswith(NEVER_RESOLVES) or host.rstrip(".").lower() == "invalid":
        check = make_check(
            "network.dns",
            title,
            CheckStatus.FAIL,
            f"the host name {host} cannot be resolved (.invalid names never exist)",
            "check the URL or --env: the host name is misspelt",
        )
        return check, []
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=deadline.remaining()
        )
    except TimeoutError:
        diagnosis = f"resolving {host} did not finish within the time limit"
        fix = "check this machine's DNS settings or proxy; try again with a longer --timeout"
    except socket.gaierror as exc:
        diagnosis, fix = name_failure(host, exc)
    else:
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        elapsed = time.perf_counter() - started
        check = make_check(
            "network.dns",
            title,
            CheckStatus.PASS,
            f"{host} resolves to {', '.join(addresses)} in {elapsed * 1000:.0f} ms",
            duration_s=elapsed,
            addresses=addresses,
            ms=round(elapsed * 1000, 1),
        )
        return check, addresses
    failed = make_check(
        "network.dns", title, CheckStatus.FAIL, diagnosis, fix, duration_s=time.perf_counter() - started
    )
    return failed, []


async def connect(host: str, address: str, port: int, deadline: Deadline) -> Check:
    title = "TCP connect"
    started = time.perf_counter()
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(address, port), timeout=deadline.remaining()
        )
    except (TimeoutError, OSError) as exc:
        diagnosis, status_fix = connect_failure(address, port, exc)
    else:
        elapsed = time.perf_counter() - started
        writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), timeout=1.0)
        return make_check(
            "network.tcp",
            title,
            CheckStatus.PASS,
            f"connected to {address}:{port} in {elapsed * 1000:.0f} ms",
            address=address,
            port=port,
            duration_s=elapsed,
            ms=round(elapsed * 1000, 1),
        )
    return make_check(
        "network.tcp",
        title,
        CheckStatus.FAIL,
        diagnosis,
        status_fix,
        duration_s=time.perf_counter() - started,
        address=address,
        port=port,
    )
