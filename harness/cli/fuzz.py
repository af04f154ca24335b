"""`crrsim fuzz`: schemathesis against every CRR operation, CAISO-aware and safe on shared environments.

Thin: the one config plus the run's options become a ``FuzzSettings``; ``harness.fuzz`` runs
schemathesis' engine. The default target is a fresh embedded sandbox with the Market Sim plan
set up and its clock where every monthly window is open. Exit codes (``harness.exitcodes``):
0 passed, 1 failures found, 2 usage error, 3 could not run, 6 incomplete (no failure, but
not everything asked was fuzzed: the report names what and the flag that covers it).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from harness.cli.options import (
    CannotRun,
    config_options,
    pfx_password,
    refuse_on_production,
    report_options,
    require_files,
    use_color,
)
from harness.cli.stream import check_written, run_stream
from harness.client.reach import unreachable
from harness.config import CrrsimConfig
from harness.contract import SERVICE_NAMES
from harness.exitcodes import ExitCode
from harness.fuzz.compare import Comparison
from harness.fuzz.settings import MAX_RESPONSE_TIME, MODES, PHASES, SHARED_MAX_RESPONSE_TIME, FuzzSettings
from harness.pki.devpki import dev_ca, files_for
from harness.sandbox.launch import embedded


@contextlib.contextmanager
def _reference_sandbox(settings: FuzzSettings) -> Iterator[Comparison]:
    """--compare-with sandbox: a fresh sandbox (plan set up, monthly windows open) and a client
    with the dev identity acting for the same SC ID."""
    from harness.client import ClientIdentity, CRRClient
    from harness.pki import ensure_dev_pki

    reference = FuzzSettings(cfg=settings.cfg, participant=settings.participant)
    with _embedded_sandbox(reference) as url:
        pki = ensure_dev_pki(settings.cfg.sandbox_pki)
        files = pki.files_for(settings.participant)
        with CRRClient(
            url, identity=ClientIdentity.from_pem(files.cert, files.key), ca=pki.ca_cert, retries=0
        ) as client:
            yield Comparison(client, "the sandbox")


@contextlib.contextmanager
def _embedded_sandbox(settings: FuzzSettings) -> Iterator[str]:
    """A fresh sandbox (``sandbox.launch.embedded``) with the dev identity's files chosen."""
    with embedded(settings.cfg.sandbox_pki, settings.specs, prefix="fuzz") as (url, pki):
        files = pki.files_for(settings.participant)
        settings.cert, settings.key, settings.pfx, settings.ca = files.cert, files.key, None, pki.ca_cert
        yield url


def _dev_identity_for_url(settings: FuzzSettings) -> None:
    """--url with the dev PKI and no certificate of one's own: the dev identities are used."""
    cfg = settings.cfg
    if settings.cert is not None or settings.pfx is not None or not dev_ca(cfg.sandbox_pki).is_file():
        return
    files = files_for(cfg.sandbox_pki, settings.participant)
    settings.cert, settings.key = files.cert, files.key
    settings.ca = settings.ca or dev_ca(cfg.sandbox_pki)


def _replay(cfg: CrrsimConfig, ident: str) -> None:
    """Send a recorded failure's request again, exactly (``harness.fuzz.replay``), with the
    configured identity (the dev identity on a --url sandbox with --pki), run its failed check
    again and say whether it still fails: exit 1 when it does, 0 when it no longer does."""
    from harness.client import ClientIdentity, CRRClient
    from harness.contract import load_catalogue
    from harness.fuzz.bundles import bundle_dir, load_bundle
    from harness.fuzz.replay import replay

    try:
        bundle = load_bundle(bundle_dir(cfg.reports_dir), ident)
    except LookupError as exc:
        raise click.UsageError(str(exc)) from None
    settings = FuzzSettings.from_config(cfg, password=pfx_password(cfg, required=True) if cfg.pfx else None)
    _dev_identity_for_url(settings)
    if settings.pfx is not None:
        identity = ClientIdentity.from_pfx(settings.pfx, settings.password)
    elif settings.cert is not None:
        identity = ClientIdentity.from_pem(settings.cert, settings.key)
    else:
        raise click.UsageError("give the certificate to replay with: --pfx FILE, or --cert FILE --key FILE")
    url = bundle.data["request"]["url"]
    base = bundle.data["target"]
    if not cfg.is_sandbox and url.startswith(base):
        url = cfg.base_url() + url[len(base) :]  # the same call against the target given now
    with CRRClient(
        url.split("/crr", 1)[0] + "/crr", identity=identity, ca=settings.ca, retries=0, timeout=cfg.timeout
    ) as client:
        result = replay(bundle, client, load_catalogue(cfg.specs), url)
    click.echo(f"{bundle.data['check']}: {bundle.data['title']} ({bundle.data['operation']})")
    answered = f"HTTP {result.status}" if result.status is not None else "no answer"
    click.echo(
        f"replayed {bundle.data['request']['method']} {url} -> {answered}"
        + (f" (caiso-request-id {result.request_id})" if result.request_id else "")
    )
    click.echo(f"{result.verdict.upper()}: {result.said}")
    if result.still_fails is None:
        sys.exit(ExitCode.CANNOT_RUN)
    sys.exit(ExitCode.PROBLEM if result.still_fails else ExitCode.OK)


@click.command("fuzz")
@config_options(
    "env_name",
    "url",
    "participant",
    "pfx",
    "cert",
    "key",
    "ca",
    "pki",
    "specs",
    "timeout",
    reword={
        "participant": "SC ID the generated requests act for (default ECAL).",
        "timeout": "Seconds to wait for an answer from the CRR API; 3 calls in a row without one stop the run.",
    },
)
@click.option(
    "--service",
    "services",
    multiple=True,
    type=click.Choice(SERVICE_NAMES),
    help="Only this service; repeatable (default: all ten).",
)
@click.option("--operation", "operations", multiple=True, help="Only this operationId; repeatable.")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="all",
    show_default=True,
    help="Generate data the contract accepts (positive), breaks (negative), or both.",
)
@click.option(
    "--phases", default=",".join(PHASES), show_default=True, help="Comma-separated schemathesis phases."
)
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Generated cases per operation and phase.",
)
@click.option("--seed", type=int, default=None, help="Hypothesis seed (the report records it).")
@click.option("--workers", type=click.IntRange(min=1, max=16), default=1, show_default=True)
@click.option(
    "--allow-writes", is_flag=True, help="Send write operations to a shared environment (never production)."
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Requests per second (default: unlimited on the sandbox, 2 elsewhere).",
)
@click.option(
    "--max-requests",
    type=click.IntRange(min=1),
    default=None,
    help="Request budget of the run (default: none on the sandbox, 2000 elsewhere).",
)
@click.option(
    "--stop-on-5xx/--no-stop-on-5xx",
    default=None,
    help="Stop at the first server error (default: on off the sandbox).",
)
@click.option(
    "--max-response-time",
    type=click.FloatRange(min=0.01),
    default=None,
    help=f"Seconds an answer may take; a slower one is a failure of its operation (default "
    f"{MAX_RESPONSE_TIME:g} on the sandbox, {SHARED_MAX_RESPONSE_TIME:g} elsewhere).",
)
@click.option(
    "--continue-on-failure",
    is_flag=True,
    help="Keep testing an operation after its first failure (finds every kind, takes longer).",
)
@click.option(
    "--compare-with",
    "compare_with",
    type=click.Choice(["sandbox"]),
    default=None,
    help="Send every generated read to a fresh sandbox too and list where the answers differ.",
)
@click.option(
    "--replay",
    "replay_id",
    default=None,
    metavar="ID",
    help="Send a recorded failure again (its support bundle in <reports_dir>/fuzz/failures) and exit.",
)
@report_options
def command(
    cfg: CrrsimConfig,
    services: tuple[str, ...],
    operations: tuple[str, ...],
    mode: str,
    phases: str,
    max_examples: int,
    seed: int | None,
    workers: int,
    allow_writes: bool,
    rate: float | None,
    max_requests: int | None,
    stop_on_5xx: bool | None,
    max_response_time: float | None,
    continue_on_failure: bool,
    compare_with: str | None,
    replay_id: str | None,
    json_out: Path | None,
    junit: Path | None,
    html: Path | None,
    events_out: Path | None,
) -> None:
    """Property-test every CRR operation against its contract with schemathesis (CAISO-aware)."""
    if replay_id is not None:
        _replay(cfg, replay_id)
    chosen = tuple(p.strip() for p in phases.split(",") if p.strip())
    bad = [p for p in chosen if p not in PHASES]
    if bad or not chosen:
        raise click.UsageError(f"--phases takes {', '.join(PHASES)} (comma-separated), got {phases!r}")
    require_files(cfg, "pfx", "cert", "key", "ca", "specs")
    refuse_on_production(cfg, {"--allow-writes": allow_writes})
    settings = FuzzSettings.from_config(
        cfg,
        services=list(services),
        operations=list(operations),
        mode=mode,
        phases=chosen,
        max_examples=max_examples,
        seed=seed,
        workers=workers,
        allow_writes=allow_writes,
        rate=rate,
        max_requests=max_requests,
        stop_on_5xx=stop_on_5xx,
        continue_on_failure=continue_on_failure,
        max_response_time=max_response_time,
        reads_only=compare_with is not None,
        password=pfx_password(cfg, required=True) if cfg.pfx else None,
    )
    from harness.fuzz.runner import run_fuzz
    from harness.reports.handlers import render_text

    if compare_with and cfg.is_sandbox:
        raise click.UsageError(
            "--compare-with sandbox compares another target with the sandbox: give --env or --url"
        )
    with run_stream(json_out, junit, html, events_out) as (emit, files):
        try:
            if cfg.is_sandbox:
                with _embedded_sandbox(settings) as url:
                    outcome = run_fuzz(settings, url, emit=emit)
            elif (problem := unreachable(cfg.base_url())) is not None:
                raise RuntimeError(problem)  # the COULD NOT RUN report below, exit 3
            elif compare_with:
                _dev_identity_for_url(settings)
                with _reference_sandbox(settings) as comparison:
                    outcome = run_fuzz(settings, cfg.base_url(), comparison, emit=emit)
            else:
                _dev_identity_for_url(settings)
                outcome = run_fuzz(settings, cfg.base_url(), emit=emit)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        except (OSError, RuntimeError) as exc:
            from harness.reports import could_not_run

            # the reports a CI job reads still appear, saying why nothing could be fuzzed
            files.write(
                could_not_run("fuzz", cfg.target_name, str(exc), "make the target answer, then run again")
            )
            raise CannotRun(str(exc)) from None
    click.echo(render_text(outcome.report, color=use_color()), nl=False)
    check_written(files)
    sys.exit(outcome.report.exit_code())
