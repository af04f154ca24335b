"""`crrsim certs init|inspect` through click's CliRunner, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import cli
from harness.cli import options as cli_options
from harness.pki import DevPKI
from tests.pki.pki_helpers import fingerprint

ENV = "CRRSIM_PFX_PASSWORD"


def run(args: list[str], *, env: dict[str, str | None] | None = None, stdin: str | None = None) -> Result:
    merged: dict[str, str | None] = {ENV: None, **(env or {})}
    return CliRunner().invoke(cli, ["certs", *args], env=merged, input=stdin)


def assert_no_secrets(result: Result, password: str) -> None:
    assert password not in result.output
    assert "PRIVATE KEY" not in result.output
    assert "Traceback" not in result.output


def test_init_force_then_nothing_to_do(pki_copy: Path, dev_pki: DevPKI) -> None:
    password = dev_pki.password()
    forced = run(["init", "--dir", str(pki_copy), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "clients/ecal.pem" in forced.output and "reissued (--force was given)" in forced.output
    assert f"read from {pki_copy / 'pfx-password'}" in forced.output
    assert (pki_copy / "pfx-password").read_text().strip() == password  # --force keeps the password
    assert fingerprint(pki_copy / "ca.pem") != fingerprint(dev_pki.ca_cert)
    assert fingerprint(pki_copy / "clients" / "ecal.pem") != fingerprint(dev_pki.identities["ecal"].cert)
    assert_no_secrets(forced, password)

    again = run(["init", "--dir", str(pki_copy)])
    assert again.exit_code == 0, again.output
    assert "nothing changed" in again.output and "created" not in again.output
    assert_no_secrets(again, password)


def test_init_says_where_the_password_came_from(pki_copy: Path) -> None:
    result = run(["init", "--dir", str(pki_copy)], env={ENV: "env-secret-123"})
    assert result.exit_code == 0, result.output
    assert f"taken from ${ENV}" in result.output and "repacked" in result.output
    assert_no_secrets(result, "env-secret-123")


def test_init_into_an_unwritable_place_is_a_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run(["init", "--dir", str(blocker / "pki")])
    assert result.exit_code == 3 and "Could not write the dev PKI" in result.output  # could not run
    assert "Traceback" not in result.output


def test_inspect_pem_with_ca_and_key(dev_pki: DevPKI) -> None:
    files = dev_pki.identities["ecal"]
    result = run(["inspect", str(files.cert), "--ca", str(dev_pki.ca_cert), "--key", str(files.key)])
    assert result.exit_code == 0, result.output
    assert "CN=ecal" in result.output and "Chain:          OK" in result.output
    assert "matches this certificate" in result.output
    assert_no_secrets(result, dev_pki.password())


def test_inspect_pfx_with_password_from_env(dev_pki: DevPKI) -> None:
    pfx = dev_pki.bad["no-client-auth"].pfx
    result = run(["inspect", str(pfx), "--format", "json"], env={ENV: dev_pki.password()})
    assert result.exit_code == 1, result.output  # a reported problem fails the command (issue 9 item 6)
    data = json.loads(result.output)
    assert data["file_format"] == "PKCS#12" and data["client_auth"] is False and data["problems"]
    assert_no_secrets(result, dev_pki.password())


def test_inspect_json_file_means_what_it_means_in_every_command(dev_pki: DevPKI, tmp_path: Path) -> None:
    """--json FILE writes a file (as probe, fuzz, load and specs do); the text still prints."""
    out = tmp_path / "inspect.json"
    result = run(["inspect", str(dev_pki.identities["ecal"].cert), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "CN=ecal" in result.output and json.loads(out.read_text())["client_auth"] is True
    flag_only = run(["inspect", str(dev_pki.identities["ecal"].cert), "--json"])
    assert flag_only.exit_code == 2 and "--json" in flag_only.output


def test_inspect_pfx_wrong_password_has_its_own_message(dev_pki: DevPKI) -> None:
    result = run(["inspect", str(dev_pki.identities["ecal"].pfx)], env={ENV: "definitely-wrong"})
    assert result.exit_code == 1
    assert "Wrong password" in result.output and "looks intact" in result.output
    assert_no_secrets(result, dev_pki.password())


def test_inspect_pfx_without_password_and_no_terminal_exits_2(dev_pki: DevPKI) -> None:
    result = run(["inspect", str(dev_pki.identities["ecal"].pfx)])
    assert result.exit_code == 2
    assert ENV in result.output and "no terminal" in result.output


def test_inspect_pfx_prompts_when_interactive(dev_pki: DevPKI, monkeypatch: pytest.MonkeyPatch) -> None:
    # CliRunner's stdin is never a terminal; pretend it is so the real click prompt runs.
    monkeypatch.setattr(cli_options, "interactive", lambda: True)
    result = run(["inspect", str(dev_pki.identities["wcal"].pfx)], stdin=dev_pki.password() + "\n")
    assert result.exit_code == 0, result.output
    assert "Password for wcal.pfx" in result.output and "CN=wcal" in result.output
    assert_no_secrets(result, dev_pki.password())  # hide_input: the typed password is not echoed


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.pem", None, "File not found"),
        ("notes.txt", b"just words\n", "is not a certificate"),
        ("broken.pfx", b"\x30\x03\x02\x01\x03", "damaged"),
    ],
)
def test_inspect_errors_are_sentences(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = run(["inspect", str(path)], env={ENV: "x"})
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output


def test_no_password_option_exists() -> None:
    for sub in ("init", "inspect"):
        result = run([sub, "--help"])
        assert result.exit_code == 0 and "--password" not in result.output


@pytest.mark.parametrize("bad", ["expired", "not-yet-valid", "unknown-ca", "no-client-auth"])
def test_inspect_exits_1_on_every_reported_problem(dev_pki: DevPKI, bad: str) -> None:
    """Issue 9 item 6: expired, not yet valid, wrong CA, no clientAuth -> exit 1; clean -> 0."""
    files = dev_pki.bad[bad]
    result = run(["inspect", str(files.cert), "--ca", str(dev_pki.ca_cert), "--key", str(files.key)])
    assert result.exit_code == 1, result.output
    assert "Problem:" in result.output


def test_inspect_exits_1_on_a_key_that_does_not_match(dev_pki: DevPKI) -> None:
    ecal, wcal = dev_pki.identities["ecal"], dev_pki.identities["wcal"]
    result = run(["inspect", str(ecal.cert), "--ca", str(dev_pki.ca_cert), "--key", str(wcal.key)])
    assert result.exit_code == 1, result.output
    assert "Problem:" in result.output


def test_inspect_exits_0_when_clean(dev_pki: DevPKI) -> None:
    files = dev_pki.identities["wcal"]
    result = run(["inspect", str(files.cert), "--ca", str(dev_pki.ca_cert), "--key", str(files.key)])
    assert result.exit_code == 0, result.output
    assert "Problem:" not in result.output
