"""Our contract files describe exactly CAISO's interface, in our own words.

Interface facts must agree operation by operation (see harness.contract.compare); prose
must not be copied. The few places where CAISO's file contradicts itself are listed in
harness.contract.compare.KNOWN_DEVIATIONS with the reason we chose differently; each entry must still be observed,
so when CAISO fixes its file the test tells us to drop the entry.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.contract import SERVICE_NAMES, Catalogue
from harness.contract.catalogue import error_table_of
from harness.contract.compare import KNOWN_DEVIATIONS, diff_services, is_known_deviation

OFFICIAL_LINE_MIN = 70
NORMALISE = re.compile(r"\s+")


@pytest.mark.official_specs
@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_interface_agrees_with_caiso(service: str, ours: Catalogue, caiso: Catalogue) -> None:
    assert service in caiso.services, f"CAISO's folder has no {service} file"
    assert service in ours.services, f"we have no contract file for {service}"
    differences = diff_services(ours[service], caiso[service])
    unexpected = [d for d in differences if not is_known_deviation(d)]
    assert not unexpected, f"{len(unexpected)} interface difference(s) from CAISO's {service}:\n" + "\n".join(
        unexpected
    )


@pytest.mark.official_specs
def test_every_known_deviation_is_still_real(ours: Catalogue, caiso: Catalogue) -> None:
    differences = [d for name in SERVICE_NAMES for d in diff_services(ours[name], caiso[name])]
    stale = [reason for rx, reason in KNOWN_DEVIATIONS if not any(re.search(rx, d) for d in differences)]
    assert not stale, "these deviations no longer occur; remove them from KNOWN_DEVIATIONS:\n" + "\n".join(
        stale
    )


@pytest.mark.official_specs
def test_same_operation_set_and_versions(ours: Catalogue, caiso: Catalogue) -> None:
    assert sorted(ours.services) == sorted(caiso.services) == sorted(SERVICE_NAMES)
    assert {s.name: str(s.version) for s in ours} == {s.name: str(s.version) for s in caiso}
    assert sum(len(s.operations) for s in ours) == sum(len(s.operations) for s in caiso) == 69


def _long_lines(path: Path) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = NORMALISE.sub(" ", raw).strip()
        if len(line) >= OFFICIAL_LINE_MIN and not line.startswith(("pattern:", "- pattern:")):
            lines.setdefault(line, number)
    return lines


@pytest.mark.official_specs
def test_no_line_copied_from_caiso(ours: Catalogue, official_specs: Path) -> None:
    theirs: set[str] = set()
    for path in official_specs.glob("caiso_crr_*.yaml"):
        theirs.update(_long_lines(path))
    copied = [
        f"{svc.path.name}:{number}: {line}"
        for svc in ours
        for line, number in _long_lines(svc.path).items()
        if line in theirs
    ]
    assert not copied, "lines copied verbatim from CAISO's files:\n" + "\n".join(copied)


@pytest.mark.official_specs
def test_error_messages_are_ours(ours: Catalogue, caiso: Catalogue) -> None:
    """Codes agree (checked above); the wording must not be CAISO's."""
    copied = []
    for svc in ours:
        theirs = {code: msg.lower() for code, msg in error_table_of(caiso[svc.name].spec).items()}
        for code, message in error_table_of(svc.spec).items():
            if " ".join(message.split()).lower() == theirs.get(code) and message != "{0}":
                copied.append(f"{svc.name} {code}: {message}")
    assert not copied, "error messages copied from CAISO:\n" + "\n".join(copied)


def test_the_auction_service_uses_nom0129_because_caisos_auction_contract_lists_it(
    caiso: Catalogue, ours: Catalogue
) -> None:
    """Issue 19 item 7: a closed-window retraction in the auction service answers NOM0129, a code
    named for nominations. That is CAISO's own choice, not ours: its auction contract (1.2.1)
    lists NOM0129 (beside the retraction codes POR0011/POR0012) for a retraction the window no
    longer allows. The sandbox follows the contract; this pins the reason, so a later CAISO
    version that drops the code fails here and the sandbox's choice gets revisited."""
    assert "NOM0129" in caiso["auction"].error_codes
    assert "NOM0129" in ours["auction"].error_codes
