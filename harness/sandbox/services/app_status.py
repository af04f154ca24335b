"""CRR App Status: the availability ping. Answers without touching the store, so it measures
the sandbox's TLS + HTTP path alone (and is the benchmark's GET /status)."""

from __future__ import annotations

from harness.sandbox.context import Reply, SandboxRequest
from harness.sandbox.registry import handler

_UP = {"status": "up"}


# CAISO's file names the operation "get-status"; our contract calls it "getStatus".
@handler("app_status", "getStatus")
@handler("app_status", "get-status")
async def get_status(req: SandboxRequest) -> Reply:
    return Reply(body=_UP)
