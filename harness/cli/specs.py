"""``crrsim specs``: show and check the contract folder the other commands will use.

The folder is the config's ``specs`` (--specs, $CRRSIM_SPECS or crrsim.yaml), exactly as the
other commands resolve it, so what this checks is what they run against.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import click

from harness.cli.options import CheckFailed, config_options, report_options, require_files
from harness.cli.stream import check_written, run_stream
from harness.config import CrrsimConfig
from harness.contract import SERVICE_NAMES, Catalogue, ContractError, load_catalogue
from harness.contract.catalogue import default_specs_dir
from harness.contract.compare import Sides


def _load(specs: Path | None) -> Catalogue:
    try:
        return load_catalogue(specs)
    except ContractError as exc:  # judging the files is this command's check: a finding, exit 1
        raise CheckFailed(str(exc)) from exc


def _all_warnings(cat: Catalogue) -> list[str]:
    missing = [name for name in SERVICE_NAMES if name not in cat.services]
    extra = [f"no contract file for service {name}" for name in missing]
    return [*cat.warnings, *extra]


def _table(cat: Catalogue) -> str:
    rows = [("SERVICE", "VERSION", "OPERATIONS", "FILE")]
    rows += [(s.name, str(s.version), str(len(s.operations)), s.path.name) for s in cat]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}".rstrip() for r in rows
    )


def side_labels(first: Path, second: Path) -> Sides:
    """Name each compared folder the way a reader knows it: crrsim's bundled contract is
    "crrsim", any other folder goes by its name; the flags break a tie."""
    bundled = default_specs_dir().resolve()

    def label(folder: Path) -> str:
        return "crrsim" if folder.resolve() == bundled else folder.resolve().name

    a, b = label(first), label(second)
    return Sides("--specs", "--against") if a == b else Sides(a, b)


@click.group()
def command() -> None:
    """List or check CRR contract files."""


@command.command("list")
@config_options("specs")
def list_(cfg: CrrsimConfig) -> None:
    """Table of services, versions and operation counts; warnings follow."""
    require_files(cfg, "specs")
    cat = _load(cfg.specs)
    click.echo(f"contract folder: {cat.directory}")
    click.echo(_table(cat))
    total = sum(len(s.operations) for s in cat)
    click.echo(f"{len(cat.services)} services, {total} operations")
    warnings = _all_warnings(cat)
    if warnings:
        click.echo(f"\n{len(warnings)} warning(s):")
        for warning in warnings:
            click.echo(f"  - {warning}")


@command.command("check")
@config_options("specs")
@click.option(
    "--against",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Also compare interface facts with another contract folder (e.g. CAISO's files).",
)
def check(cfg: CrrsimConfig, against: Path | None) -> None:
    """Validate every file as OpenAPI 3.0; exit non-zero on errors (warnings are reported only)."""
    require_files(cfg, "specs")
    cat = _load(cfg.specs)
    for warning in _all_warnings(cat):
        click.echo(f"warning: {warning}")
    if against is not None:
        from harness.contract.compare import diff_catalogues, is_known_deviation

        other = _load(against)
        sides = side_labels(cat.directory, other.directory)
        click.echo(f"comparing {sides.a} ({cat.directory}) with {sides.b} ({other.directory})")
        found = diff_catalogues(cat, other, sorted(set(cat.services) & set(other.services)), sides=sides)
        for line in (d for d in found if is_known_deviation(d)):
            click.echo(f"known deviation: {line}")
        differences = [d for d in found if not is_known_deviation(d)]
        if differences:
            for line in differences:
                click.echo(f"differs: {line}")
            raise CheckFailed(f"{len(differences)} interface difference(s) between {sides.a} and {sides.b}")
    click.echo(f"ok: {len(cat.services)} contract files in {cat.directory} are valid OpenAPI 3.0")


@contextlib.contextmanager
def _usage(*errors: type[Exception]) -> Iterator[None]:
    """These errors are the user's to fix: exit 2 with their sentence."""
    try:
        yield
    except errors as exc:
        raise click.UsageError(str(exc)) from None


@command.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@config_options("specs")
@report_options
def lint(
    cfg: CrrsimConfig,
    paths: tuple[Path, ...],
    json_out: Path | None,
    junit: Path | None,
    html: Path | None,
    events_out: Path | None,
) -> None:
    """Lint contract files (folders or files; default: the contract in use) for what silently
    breaks tools or clients: exit 1 on errors, warnings are reported only."""
    from harness.specs.run import NoContractFiles, run_lint

    targets = list(paths) or [cfg.specs or default_specs_dir()]
    with run_stream(json_out, junit, html, events_out) as (emit, files), _usage(NoContractFiles):
        result, report = run_lint(targets, emit)
    for file in result.files:
        found = [f for f in result.findings if f.file == file]
        click.echo(f"{file}: {'clean' if not found else f'{len(found)} finding(s)'}")
        for f in found:
            click.echo(f"  {f.severity:<7} {f.rule:<28} {f.where}\n          {f.message}")
    for note in result.notes:
        click.echo(f"note: {note}")
    check_written(files)
    errors, warnings = len(result.errors), len(result.warnings)
    known = len(result.findings) - errors - warnings
    click.echo(
        f"{len(result.files)} file(s): {errors} error(s), {warnings} warning(s)"
        + (f", {known} known (kept on purpose: x-crrsim-known)" if known else "")
    )
    if errors:
        raise CheckFailed(f"{errors} lint error(s) in the contract files")


@command.command("diff")
@click.argument("old", type=click.Path(exists=True, path_type=Path))
@click.argument("new", type=click.Path(exists=True, path_type=Path))
@report_options
@click.option(
    "--markdown", type=click.Path(dir_okay=False, path_type=Path), help="Write the changes as Markdown."
)
def diff(
    old: Path,
    new: Path,
    json_out: Path | None,
    junit: Path | None,
    html: Path | None,
    events_out: Path | None,
    markdown: Path | None,
) -> None:
    """Every change between two versions of a contract file (or two folders): breaking,
    compatible or documentation, the bump the changes require against the bump carried, and
    what a participant must do. Exit 1 on breaking changes or an understated bump."""
    from harness.specs.diff import diff_markdown
    from harness.specs.run import NoContractFiles, run_diff

    if old.is_dir() != new.is_dir():
        raise click.UsageError("give two files or two folders")
    with run_stream(json_out, junit, html, events_out) as (emit, files), _usage(NoContractFiles):
        results, report = run_diff(old, new, emit)
    actions = []
    for service, result in results.items():
        click.echo(
            f"{service}: {result.old_version or '(none)'} -> {result.new_version or '(none)'}: "
            f"{len(result.of('breaking'))} breaking, {len(result.of('compatible'))} compatible, "
            f"{len(result.of('documentation'))} documentation"
        )
        for change in result.changes:
            click.echo(f"  {change.kind:<13} [{change.rule}] {change.where}: {change.text}")
        verdict = "understates the change" if result.understated else "is honest"
        click.echo(
            f"  bump: the file carries {result.carried}, the changes require {result.required}: it {verdict}"
        )
        actions += [f"{service}: {c.action}" for c in result.of("breaking") if c.action]
    if actions:
        click.echo("\nParticipant action list:")
        for line in actions:
            click.echo(f"  - {line}")
    check_written(files)
    if markdown is not None:
        markdown.write_text(diff_markdown(results), encoding="utf-8")
        click.echo(f"Wrote {markdown}", err=True)
    if not report.ok:
        breaking = any(r.of("breaking") for r in results.values())
        understated = report.verdict == "UNDERSTATED"
        raise CheckFailed(
            "breaking changes in a version bump that understates them"
            if breaking and understated
            else "breaking changes"
            if breaking
            else "a version bump that understates the change"
        )


@command.command("history")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@config_options("specs")
@report_options
def history(
    cfg: CrrsimConfig,
    paths: tuple[Path, ...],
    json_out: Path | None,
    junit: Path | None,
    html: Path | None,
    events_out: Path | None,
) -> None:
    """Each file's change-log table, every entry classified (breaking, compatible, documentation,
    with its rule), every version's bump audited: exit 1 when a version understates its change."""
    from harness.specs.run import NoContractFiles, run_history

    targets = list(paths) or [cfg.specs or default_specs_dir()]
    with run_stream(json_out, junit, html, events_out) as (emit, files), _usage(NoContractFiles):
        audits, report = run_history(targets, emit)
    for service, versions in audits.items():
        click.echo(f"{service}")
        click.echo(
            f"  {'VERSION':<8} {'DATE':<10}  {'CARRIES':<7} {'NEEDS':<7} {'B':>2} {'C':>2} {'D':>2}  VERDICT"
        )
        for v in versions:
            kinds = [e.kind for e in v.entries]
            verdict = "understated" if v.understated else ""
            click.echo(
                f"  {v.version:<8} {v.date:<10}  {v.carried:<7} {v.required:<7} {kinds.count('breaking'):>2} "
                f"{kinds.count('compatible'):>2} {kinds.count('documentation'):>2}  {verdict}"
            )
    for key, value in report.sections[0].facts.items():
        click.echo(f"{key}: {value}")
    check_written(files)
    if not report.ok:
        raise CheckFailed("published versions understate their change (see above)")
