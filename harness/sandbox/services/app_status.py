"""CRR App Status: the availability ping. Answers without touching the store, so it measures
the sandbox's TLS + HTTP path alone (and is the benchmark's GET /status)."""

from __future__ import annotations

from harness.sandbox.services.request import Operations, Reply, SandboxRequest

_UP = {"status": "up"}
operations = Operations("app_status")


# CAISO's file names the operation "get-status"; our contract calls it "getStatus".
@operations.handler("getStatus")
@operations.handler("get-status")
async def get_status(req: SandboxRequest) -> Reply:
    return Reply(body=_UP)
