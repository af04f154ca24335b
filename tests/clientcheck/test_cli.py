"""What `crrsim client-check` and `crrsim sandbox serve --judge` say about input that cannot
work: a plain sentence and exit 2, before any sandbox starts, and no secret on any line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.exitcodes import ExitCode
from harness.pki import DevPKI
from harness.pki.issue import issue_client_cert, make_ca, write_pfx

REPO = Path(__file__).resolve().parents[2]


def crrsim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRRSIM_")}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**clean, "NO_COLOR": "1", **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--day", "week3.funday"), "week1|week2 . monday..friday"),
        (("--until-idle", "soon"), "--until-idle takes seconds like 30"),
        (("--duration", "0"), "--duration must be more than 0 seconds"),
    ],
)
def test_bad_options_are_a_sentence_and_exit_2(args: tuple[str, ...], words: str, tmp_path: Path) -> None:
    done = crrsim("client-check", "--out", str(tmp_path / "out"), *args)
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr


def test_a_broken_script_is_named_with_its_entry(tmp_path: Path) -> None:
    script = tmp_path / "my-day.yaml"
    script.write_text("schedule:\n  faults:\n    - {fault: slow, kinds: [write]}\n")
    done = crrsim("client-check", "--script", str(script), "--out", str(tmp_path / "out"))
    assert done.returncode == ExitCode.USAGE
    assert "my-day.yaml: schedule.faults[0]: slow changes an answer a read gets" in done.stderr


def test_a_pfx_without_its_password_is_refused_without_a_terminal(dev_pki: DevPKI, tmp_path: Path) -> None:
    pfx = dev_pki.files_for("ECAL").pfx
    done = crrsim(
        "client-check", "--pfx", str(pfx), "--pki", str(dev_pki.directory), "--out", str(tmp_path / "o")
    )
    assert done.returncode == ExitCode.USAGE
    assert "CRRSIM_PFX_PASSWORD" in done.stderr


def test_a_wrong_pfx_password_cannot_run_and_is_not_shown(tmp_path: Path) -> None:
    ca = make_ca(common_name="Participant's own CA")
    leaf = issue_client_cert(ca=ca, name="ecal-b2b", sc_ids=["ECAL"])
    pfx = write_pfx(tmp_path / "own.pfx", key=leaf.key, cert=leaf.cert, password="the-right-one")
    secret = "not-the-password-4711"
    done = crrsim(
        "client-check",
        "--pfx",
        str(pfx),
        "--pki",
        str(tmp_path / "pki"),  # the dev PKI follows $CRRSIM_PFX_PASSWORD: a throwaway one
        "--out",
        str(tmp_path / "o"),
        env={"CRRSIM_PFX_PASSWORD": secret},
    )
    assert done.returncode == ExitCode.CANNOT_RUN, done.stderr
    assert str(pfx) in done.stderr and "password" in done.stderr.lower()
    assert secret not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--judge", "clientcheck/typical-day.yaml"), "--judge needs --observe FILE"),
        (
            ("--judge", "clientcheck/typical-day.yaml", "--observe", "x.ndjson", "--workers", "2"),
            "leave --workers at 1",
        ),
    ],
)
def test_sandbox_serve_judge_needs_its_record_and_one_process(
    args: tuple[str, ...], words: str, tmp_path: Path
) -> None:
    done = crrsim("sandbox", "serve", "--db", str(tmp_path / "s.db"), "--port", "0", *args)
    assert done.returncode == ExitCode.USAGE and words in done.stderr
