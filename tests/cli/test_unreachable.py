"""Issue 19 item 18: a target nothing answers at is one exit code in every command (3, "could
not run"), one sentence with the address and a fix, and the previous results are kept.

It was: probe 1, fuzz 3 with a raw ``[Errno 111]``, scenarios 1 with 83 failed scenarios (and
its previous results overwritten), load 5 (an SLO breach), the control commands 3.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


COMMANDS: dict[str, list[str]] = {
    "probe": ["probe"],
    "fuzz": ["fuzz", "--max-examples", "1"],
    "scenarios": ["scenarios"],
    "load": ["load", "--allow-load", "--run-time", "2s"],
    "marketsim": ["marketsim"],
    "sandbox clock": ["sandbox", "clock"],
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_an_unreachable_target_is_exit_3_with_the_address_and_a_fix(
    crrsim: Callable[..., Result], workdir: Path, dev_pki: Any, name: str
) -> None:
    port = free_port()
    url = f"https://127.0.0.1:{port}/crr"
    kept = workdir / "reports" / "scenarios" / "junit.xml"
    kept.parent.mkdir(parents=True)
    kept.write_text("<testsuite name='the previous run'/>")
    ecal = dev_pki.identities["ecal"]
    if name == "sandbox clock":
        args = [*COMMANDS[name], "--url", url, "--pki", str(dev_pki.directory)]
    else:
        args = [
            *COMMANDS[name],
            "--url",
            url,
            "--participant",
            "ECAL",
            "--cert",
            str(ecal.cert),
            "--key",
            str(ecal.key),
            "--ca",
            str(dev_pki.ca_cert),
        ]
    result = crrsim(*args)
    assert result.exit_code == 3, (name, result.output[-1500:])
    assert f"127.0.0.1:{port}" in result.output and "refused: nothing is listening" in result.output, (
        result.output
    )
    assert f"crrsim sandbox serve --port {port}" in result.output, result.output  # the fix
    assert "Errno" not in result.output and "Traceback" not in result.output, result.output
    assert kept.read_text() == "<testsuite name='the previous run'/>"  # nothing was run or wiped
