"""Issue 9 item 4: an exported CRRSIM_PFX_PASSWORD applies only to encrypted material.

Participants export the variable for their pfx (as the README says); a probe with an unencrypted
PEM key, or the sandbox's default dev identity, must not then be told "wrong password".
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.pki.loading import PfxPasswordError, load_key_file


def test_unencrypted_pem_key_ignores_an_exported_password(dev_pki, sandbox) -> None:
    files = dev_pki.files("ecal")
    result = CliRunner().invoke(
        cli,
        [
            "probe",
            "--url",
            sandbox.url,
            "--participant",
            "ECAL",
            "--cert",
            str(files.cert),
            "--key",
            str(files.key),
            "--ca",
            str(dev_pki.ca_cert),
            "--timeout",
            "20",
        ],
        env={"CRRSIM_PFX_PASSWORD": "the-password-of-some-other-pfx"},
    )
    assert result.exit_code == 0, result.output
    assert "VERDICT: CERTIFIED" in result.stdout
    assert "wrong password" not in result.output.lower()


def test_default_sandbox_identity_ignores_an_exported_password(
    dev_pki, sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["probe", "--env", "sandbox", "--participant", "ECAL", "--timeout", "20"],
        env={
            "CRRSIM_PFX_PASSWORD": "the-password-of-some-other-pfx",
            "CRRSIM_SANDBOX_PKI": str(dev_pki.directory),
            "CRRSIM_SANDBOX_PORT": str(urlsplit(sandbox.url).port),
        },
    )
    assert "Using the dev PKI identity 'ecal'" in result.output
    assert result.exit_code == 0, result.output
    assert "wrong password" not in result.output.lower()


def test_encrypted_key_still_needs_the_right_password(dev_pki, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    key = load_key_file(dev_pki.files("ecal").key)
    encrypted = tmp_path / "enc.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"right-one"),
        )
    )
    assert load_key_file(encrypted, "right-one").key_size == key.key_size
    with pytest.raises(PfxPasswordError, match="Wrong password"):
        load_key_file(encrypted, "wrong-one")
    with pytest.raises(PfxPasswordError, match="is encrypted"):
        load_key_file(encrypted, None)
