"""``start_sandbox`` leaves no temporary folder behind: not on stop, kill, failed start, or exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from harness.pki import DevPKI
from harness.sandbox.launch import RunningSandbox, SandboxStartError, start_sandbox


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp root of our own, so sandboxes other tests start at the same time do not count."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _workdir(running: RunningSandbox, root: Path) -> Path:
    workdir = running.log_path.parent
    assert workdir.parent == root and workdir.name.startswith("crrsim-sandbox-") and workdir.is_dir()
    return workdir


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_stopping_removes_the_workdir_but_keeps_the_output(
    dev_pki: DevPKI, tmp_path: Path, private_tmp: Path, how: str
):
    running = start_sandbox(dev_pki.directory, tmp_path / "crr.db")
    workdir = _workdir(running, private_tmp)
    getattr(running, how)()
    assert running.process.poll() is not None
    assert not workdir.exists()
    assert "CRRSIM_SANDBOX_LISTENING" in running.output()
    running.stop()  # a second stop is harmless


def test_a_failed_start_removes_the_workdir(dev_pki: DevPKI, tmp_path: Path, private_tmp: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(SandboxStartError, match="cannot listen"):
            start_sandbox(dev_pki.directory, tmp_path / "crr.db", port=taken.getsockname()[1])
    assert list(private_tmp.iterdir()) == []


def test_interpreter_exit_stops_a_forgotten_sandbox(dev_pki: DevPKI, tmp_path: Path, private_tmp: Path):
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from harness.sandbox.launch import start_sandbox
        running = start_sandbox(Path({str(dev_pki.directory)!r}), Path({str(tmp_path / "crr.db")!r}))
        print(running.pid, running.log_path.parent, flush=True)
        """
    )
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True, env=env
    )
    pid, workdir = done.stdout.split()
    assert Path(workdir).parent == private_tmp
    assert list(private_tmp.iterdir()) == []
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)


@pytest.mark.parametrize("fresh", [False, True])
def test_fresh_discards_the_previous_database(
    dev_pki: DevPKI, tmp_path: Path, private_tmp: Path, fresh: bool
):
    """A restart keeps acknowledged state; ``fresh`` (a new rehearsal) starts from nothing."""
    from harness.client.control import ControlPlane
    from tests.sandbox.sbutil import make_client

    db = tmp_path / "crr.db"
    first = start_sandbox(dev_pki.directory, db)
    try:
        with make_client(dev_pki, first.url, "operator") as client:
            ControlPlane(client).setup_plan()
    finally:
        first.stop()
    again = start_sandbox(dev_pki.directory, db, fresh=fresh)
    try:
        with make_client(dev_pki, again.url, "operator") as client:
            names = {m["name"] for m in ControlPlane(client).markets()}
    finally:
        again.stop()
    assert ("AUC_MN_2026_M03" in names) is not fresh
