"""`crrsim certs`: make the dev PKI and explain certificate files.

Thin on purpose: the work is in harness.pki. Passwords only ever come from
$CRRSIM_PFX_PASSWORD or a hidden prompt, never from the command line (shell history, ps).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from harness.cli import options
from harness.cli.options import CannotRun, CheckFailed, config_options
from harness.config import CrrsimConfig
from harness.exitcodes import ExitCode
from harness.pki import PFX_PASSWORD_ENV, DevPKI, ensure_dev_pki
from harness.pki.inspect import inspect_certificate
from harness.pki.loading import CertificateLoadError, needs_password


@click.group("certs")
def command() -> None:
    """Create the development PKI and inspect certificate files."""


def _password_story(pki: DevPKI) -> str:
    if pki.password_source == "environment":
        return f"pfx password: taken from ${PFX_PASSWORD_ENV} (not written to disk)"
    if pki.password_source == "generated":
        return f"pfx password: generated and saved to {pki.password_file} (mode 0600)"
    if pki.password_source == "argument":
        return f"pfx password: supplied by the caller, saved to {pki.password_file}"
    return f"pfx password: read from {pki.password_file}"


@command.command("init")
@config_options("directory")
@click.option("--force", is_flag=True, help="Re-make every key and certificate (the password is kept).")
def init(cfg: CrrsimConfig, force: bool) -> None:
    """Create (or bring up to date) the dev CA, server and client certificates."""
    directory = cfg.sandbox_pki  # the same folder the sandbox, probe, scenarios and marketsim use
    try:
        pki = ensure_dev_pki(directory, force=force)
    except OSError as exc:
        raise CannotRun(f"Could not write the dev PKI in {directory}: {exc.strerror or exc}") from None
    changed = {change.path: change for change in pki.changes}
    root = pki.directory
    click.echo(f"Dev PKI in {root}")
    for path in pki.all_files():
        change = changed.get(path)
        if not path.exists() and change is None:
            continue
        status = f"{change.action} ({change.reason})" if change else "kept"
        click.echo(f"  {str(path.relative_to(root)):32} {status}")
    if not pki.changes:
        click.echo("Everything was already in place; nothing changed.")
    click.echo(_password_story(pki))
    click.echo(f"Trust anchor for clients: {pki.ca_cert}")


def _obtain_password(path: Path) -> str:
    env = os.environ.get(PFX_PASSWORD_ENV)
    if env:
        return env
    if not options.interactive():
        raise click.UsageError(f"{path} needs a password: set {PFX_PASSWORD_ENV} (no terminal to ask on).")
    return click.prompt(f"Password for {path.name}", hide_input=True, show_default=False)


@command.command("inspect")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--ca", type=click.Path(path_type=Path), help="Check the certificate was issued by this CA.")
@click.option("--key", type=click.Path(path_type=Path), help="Check this private key belongs to it.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the report on stdout.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as JSON to this file (as --json FILE does in every command).",
)
def inspect(file: Path, ca: Path | None, key: Path | None, output_format: str, json_out: Path | None) -> None:
    """Explain FILE (PEM, DER or .pfx/.p12) in plain words."""
    try:
        wanted = [p for p in (file, key) if p is not None and needs_password(p)]
        password = _obtain_password(wanted[0]) if wanted else None
        report = inspect_certificate(file, password=password, ca=ca, key=key)
    except CertificateLoadError as exc:  # unreadable, damaged or a wrong password: a finding
        raise CheckFailed(str(exc)) from None
    as_json = json.dumps(report.to_dict(), indent=2)
    click.echo(as_json if output_format == "json" else "\n".join(report.to_lines()))
    if json_out is not None:
        try:
            json_out.write_text(as_json + "\n", encoding="utf-8")
        except OSError as exc:
            raise CannotRun(f"Cannot write {json_out}: {exc.strerror or exc}") from None
    # a reported problem (expired, key mismatch, wrong CA, no clientAuth) fails the command, so
    # a script can gate on `crrsim certs inspect` before it files the certificate with CAISO
    sys.exit(ExitCode.PROBLEM if report.problems else ExitCode.OK)
