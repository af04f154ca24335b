"""Which operations a fuzz run may call where: the rule that keeps a shared environment safe.

* The sandbox (crrsim's own, default): every operation.
* Production: read operations only, always; no flag changes that.
* Any other target (Map-Stage, a URL): read operations only, unless ``--allow-writes``; even
  then only writes whose resource carries a name (portfolios), every name is one of the run's
  own (``crrsim fuzz <run id> n``, whatever the phase generated) and each is deleted at the end.

"Read" is the contract's word, not the HTTP method's: ``Operation.writes`` (the catalogue's
one judgement of which operations change state).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.contract import Catalogue
from harness.fuzz.settings import FuzzSettings

# services whose writes name their resource (portfolioName): on a shared environment every such
# name is the run's own, and every resource is deleted at the end (runner.clean_up)
NAMESPACED = ("auction", "nomination")


@dataclass
class Selection:
    allowed: dict[str, list[str]] = field(default_factory=dict)  # service -> operationIds to fuzz
    notes: list[str] = field(default_factory=list)  # what was left out, and why
    writes_note: str = ""
    writes_ok: bool = False  # write operations (and other methods' probes) may be sent
    link_notes: list[str] = field(default_factory=list)  # links crrsim added to a file without any

    @property
    def count(self) -> int:
        return sum(len(ops) for ops in self.allowed.values())


def select_operations(catalogue: Catalogue, settings: FuzzSettings) -> Selection:
    production = settings.target_kind == "production"
    writes_ok = not settings.reads_only and (
        settings.target_kind == "sandbox" or (settings.allow_writes and not production)
    )
    selection = Selection(writes_ok=writes_ok)
    if settings.reads_only:
        selection.writes_note = "none: a comparison sends read operations only"
    elif production:
        selection.writes_note = "none: production is fuzzed with read operations only, whatever the flags"
    elif writes_ok:
        selection.writes_note = (
            "allowed (the sandbox)"
            if settings.target_kind == "sandbox"
            else "ALLOWED (--allow-writes): write operations were sent to this environment"
        )
    else:
        selection.writes_note = "none: write operations need --allow-writes off the sandbox"
    skipped_writes: list[str] = []
    unnamed: list[str] = []
    shared_writes = writes_ok and settings.target_kind != "sandbox"
    for service in catalogue:
        if settings.services and service.name not in settings.services:
            continue
        for op in service.operations:
            if settings.operations and op.operation_id not in settings.operations:
                continue
            if op.writes and not writes_ok:
                skipped_writes.append(f"{service.name}.{op.operation_id}")
                continue
            if op.writes and shared_writes and service.name not in NAMESPACED:
                unnamed.append(f"{service.name}.{op.operation_id}")
                continue
            selection.allowed.setdefault(service.name, []).append(op.operation_id)
    if skipped_writes:
        selection.notes.append(
            f"{len(skipped_writes)} write operations left out ({selection.writes_note}): "
            + ", ".join(skipped_writes)
        )
    if unnamed:
        selection.notes.append(
            f"{len(unnamed)} write operations left out even with --allow-writes: what they make cannot carry the "
            "run's namespace or be removed afterwards (load, load migration and TOR uploads, secondary-market "
            "offers): " + ", ".join(unnamed)
        )
    unknown = [s for s in settings.services if s not in catalogue.services]
    if unknown:
        selection.notes.append(f"no contract file for {', '.join(unknown)}")
    return selection
