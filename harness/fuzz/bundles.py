"""Support bundles for fuzz failures, and ``crrsim fuzz --replay ID`` to send one again.

Every distinct failure is kept as ``<reports_dir>/fuzz/failures/<ID>.json``: what CAISO
support (or the sandbox's author) needs to act on it -- the request as sent (method, URL,
headers without credentials, body), the answer's status and the first of its body, the
caiso-request-id and time of the call, the check and its message, the target, the seed, the
crrsim version and the version of each contract file, a curl line that works with the
participant's own certificate and the ``crrsim fuzz --replay ID`` line. No secret: a pfx
password is never in a bundle (the curl line names the variable).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.contract.wire import REQUEST_ID_HEADER

HIDDEN_HEADERS = ("authorization", "cookie")


def bundle_dir(reports_dir: Path) -> Path:
    return reports_dir / "fuzz" / "failures"


def failure_id(check: str, label: str, message: str, run_id: str = "") -> str:
    """Stable for the same failure (check, operation, message) within one run, and new for every
    run (``run_id``), so a later run never overwrites the bundle an earlier report points at;
    short enough to type."""
    return hashlib.sha256(f"{run_id}|{check}|{label}|{message}".encode()).hexdigest()[:12]


@dataclass
class Bundle:
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.id}.json"
        path.write_text(json.dumps(self.data, indent=2, default=str) + "\n", encoding="utf-8")
        return path


def make_bundle(
    *,
    check: str,
    label: str,
    title: str,
    message: str,
    request: Any,
    response: Any,
    target: str,
    seed: int | None,
    curl: str,
    contract: dict[str, str],
    run_id: str = "",
) -> Bundle:
    headers = {k: v for k, v in (request.headers or {}).items() if k.lower() not in HIDDEN_HEADERS}
    flat = {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in headers.items()}
    body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
    ident = failure_id(check, label, message, run_id)
    answer = None
    if response is not None:
        content = getattr(response, "content", b"") or b""
        answer = {"status": response.status_code, "body": content[:2000].decode("utf-8", "replace")}
    return Bundle(
        {
            "id": ident,
            "run_id": run_id,
            "check": check,
            "title": title,
            "message": message,
            "operation": label,
            "request": {"method": request.method, "url": request.uri, "headers": flat, "body": body},
            "caiso_request_id": next((str(v) for k, v in flat.items() if k.lower() == REQUEST_ID_HEADER), ""),
            "response": answer,
            "target": target,
            "seed": seed,
            "recorded_at": datetime.now(UTC).isoformat(),
            "crrsim_version": __version__,
            "contract": contract,
            "curl": curl,
            "replay": f"crrsim fuzz --replay {ident}",
        }
    )


def load_bundle(folder: Path, ident: str) -> Bundle:
    path = folder / f"{ident}.json"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
        hint = f"; recorded failures: {', '.join(known[:10])}" if known else "; no failure is recorded there"
        raise LookupError(f"no recorded failure {ident} in {folder}{hint}")
    return Bundle(json.loads(path.read_text(encoding="utf-8")))
