"""The options every command shares, and the one way they become a ``CrrsimConfig``.

Each shared option maps onto one ``CrrsimConfig`` field, so a flag, a ``CRRSIM_*`` variable
and a ``crrsim.yaml`` key mean the same thing in every command and have one default (the
config's). ``@config_options("env_name", "pfx", ...)`` adds the named options plus
``--config FILE`` and ``--show-config``; the command then receives ``cfg`` (the loaded
config) instead of those options. Bad settings become a ``click.UsageError`` (exit 2).
Passwords are never options: they come from ``CRRSIM_PFX_PASSWORD`` or a hidden prompt.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import click

from harness.config import ConfigError, CrrsimConfig, load_config
from harness.config.participants import Participant
from harness.exitcodes import ExitCode

F = TypeVar("F", bound=Callable[..., Any])

_FILE = click.Path(dir_okay=False, path_type=Path)
_DIR = click.Path(file_okay=False, path_type=Path)
_DEFAULTS = {f.name: f.default for f in fields(CrrsimConfig)}


def use_color(stream: Any = None) -> bool:
    """The one colour switch: ``crrsim --no-color`` or ``NO_COLOR`` (no-color.org: any
    non-empty value) turns colour off in every command; otherwise colour on a terminal only."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.find_root().params.get("no_color"):
        return False
    stream = sys.stdout if stream is None else stream
    return bool(stream.isatty()) and not os.environ.get("NO_COLOR")


class CannotRun(click.ClickException):
    """The command could not do its work (a report not writable, a port in use, a target the
    runner itself cannot reach): exit 3, never 1, which means "the check found a problem"."""

    exit_code = ExitCode.CANNOT_RUN


class CheckFailed(click.ClickException):
    """The command ran and found a problem it states in one sentence: exit 1."""

    exit_code = ExitCode.PROBLEM


@dataclass(frozen=True)
class SharedOption:
    """One click option that sets one config field (``decls`` as for ``click.option``)."""

    setting: str
    decls: tuple[str, ...]
    help: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def option(self, help_text: str | None = None) -> Callable[[F], F]:
        default = _DEFAULTS[self.setting]
        shown = f"; default {default}" if default is not None else ""
        where = f"[config: {self.setting} / $CRRSIM_{self.setting.upper()}{shown}]"
        return click.option(
            *self.decls, default=None, help=f"{help_text or self.help} {where}", **self.kwargs
        )


# click parameter name -> the option; the parameter name is what commands list in @config_options
SHARED: dict[str, SharedOption] = {
    "env_name": SharedOption(
        "target", ("--env", "env_name"), "sandbox, mapstage, production or an https URL."
    ),
    "url": SharedOption("target", ("--url",), "Base URL instead of --env, e.g. https://host:port/crr."),
    "participant": SharedOption("participant", ("--participant",), "SC ID the run acts for, e.g. ECAL."),
    "pfx": SharedOption(
        "pfx",
        ("--pfx",),
        "PKCS#12 client certificate (password: $CRRSIM_PFX_PASSWORD or prompt).",
        {"type": _FILE},
    ),
    "cert": SharedOption("cert", ("--cert",), "PEM client certificate.", {"type": _FILE}),
    "key": SharedOption("key", ("--key",), "PEM private key of --cert.", {"type": _FILE}),
    "ca": SharedOption("ca", ("--ca",), "CA bundle that signs the server certificate.", {"type": _FILE}),
    "specs": SharedOption(
        "specs", ("--specs",), "Contract folder (default: crrsim's own contract).", {"type": _DIR}
    ),
    "timeout": SharedOption(
        "timeout",
        ("--timeout",),
        "Seconds to wait for an answer from the CRR API (one meaning in every command).",
        {"type": float},
    ),
    "host": SharedOption("sandbox_host", ("--host",), "Address the sandbox listens on."),
    "port": SharedOption(
        "sandbox_port", ("--port",), "Port of the sandbox (0 picks a free one).", {"type": int}
    ),
    "pki": SharedOption(
        "sandbox_pki", ("--pki",), "Sandbox dev PKI folder (made if missing).", {"type": _DIR}
    ),
    "directory": SharedOption(
        "sandbox_pki", ("--dir", "directory"), "Folder for the dev PKI.", {"type": _DIR}
    ),
    "db": SharedOption("sandbox_db", ("--db",), "Sandbox SQLite state file.", {"type": _FILE}),
}


def config_from_flags(flags: Mapping[str, Any], config_file: Path | None = None) -> CrrsimConfig:
    """Shared-option values (by parameter name; None = not given) > env > file > defaults."""
    given = {name: value for name, value in flags.items() if value is not None}
    if "env_name" in given and "url" in given:
        raise click.UsageError("Give either --env or --url, not both.")
    if "pfx" in given and ("cert" in given or "key" in given):
        raise click.UsageError("Give either --pfx or --cert/--key, not both.")
    overrides = {SHARED[name].setting: value for name, value in given.items()}
    try:
        return load_config(config_file, overrides=overrides)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


def config_options(*names: str, reword: Mapping[str, str] | None = None) -> Callable[[F], F]:
    """Add ``--config``, ``--show-config`` and the named shared options; pass ``cfg`` instead.

    ``reword`` rewords an option for one command (e.g. what --timeout bounds there).
    """
    unknown = [n for n in (*names, *(reword or {})) if n not in SHARED]
    if unknown:
        raise ValueError(f"not shared options: {', '.join(unknown)}")

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            flags = {name: kwargs.pop(name) for name in names}
            config_file, show = kwargs.pop("config_file"), kwargs.pop("show_config")
            cfg = config_from_flags(flags, config_file)
            if show:
                click.echo(render_config(cfg))
                raise SystemExit(0)
            return fn(*args, cfg=cfg, **kwargs)

        decorated: Any = wrapper
        for name in reversed(names):  # reversed: --help lists them in the order given
            decorated = SHARED[name].option((reword or {}).get(name))(decorated)
        decorated = click.option(
            "--show-config",
            is_flag=True,
            help="Print the effective settings and where each came from, then exit.",
        )(decorated)
        return click.option(
            "--config",
            "config_file",
            type=_FILE,
            default=None,
            help="Settings file (default: $CRRSIM_CONFIG, else ./crrsim.yaml).",
        )(decorated)

    return decorate


def flag_given(name: str) -> bool:
    """Whether the shared option ``name`` was given on this command line (not from env/file)."""
    return click.get_current_context().params.get(name) is not None


def render_config(cfg: CrrsimConfig) -> str:
    """One ``setting: value  (source)`` line each; secrets are not part of ``as_dict``."""
    rows = cfg.as_dict()
    width = max(len(name) for name in rows)
    return "\n".join(
        f"{name + ':':<{width + 1}} {'-' if value is None else value}  ({cfg.source_of(name)})"
        for name, value in rows.items()
    )


def refuse_on_production(
    cfg: CrrsimConfig, flags: Mapping[str, bool] | None = None, *, never: str = ""
) -> None:
    """Production gets reads only and no load, however its URL is spelled: a flag that would
    send writes or load there is a usage error before anything is sent (``flags`` maps each
    flag as typed, e.g. ``{"--allow-writes": True}``, to whether it was given); a command that
    has nothing to do there at all says so with ``never`` ("crrsim load never loads production")."""
    if never and cfg.target_kind == "production":
        raise click.UsageError(
            f"{never} ({cfg.target_name} is CAISO's production API): use --env mapstage or the sandbox"
        )
    given = [name for name, on in (flags or {}).items() if on]
    if given and cfg.target_kind == "production":
        raise click.UsageError(
            f"{' and '.join(given)} never {'apply' if len(given) > 1 else 'applies'} to production "
            f"({cfg.target_name} is CAISO's production API): it gets read operations only and no load; "
            "rehearse on --env mapstage or the sandbox"
        )


def require_reachable(url: str) -> None:
    """Exit 3 with the address and a fix when nothing can be reached at ``url`` (its name, its
    TCP port), before a runner sends anything: every command says an unreachable target the
    same way, and none turns it into failures, an SLO breach or wiped results."""
    from harness.client.reach import unreachable

    problem = unreachable(url)
    if problem is not None:
        raise CannotRun(problem)


def require_files(cfg: CrrsimConfig, *settings: str) -> None:
    """Missing certificate/CA/contract paths as a sentence naming where the path came from."""
    for name in settings:
        path = getattr(cfg, name)
        if path is not None and not Path(path).exists():
            source = cfg.source_of(name)
            said = f"--{name.replace('_', '-')} on the command line" if source == "override" else source
            raise click.UsageError(f"{name} {path} does not exist ({said}).")


def interactive() -> bool:
    """Only prompt when someone can answer; a CI job would otherwise hang on stdin."""
    return sys.stdin.isatty()


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")


def parse_duration(value: str | None, flag: str) -> float | None:
    """'90', '90s', '5m', '1h' -> seconds, for every option that takes a duration; anything else
    (zero included) is a usage error naming ``flag``."""
    if value is None:
        return None
    found = _DURATION.match(value)
    if not found:
        raise click.UsageError(f"{flag} takes seconds like 30, 30s, 5m or 1h; {value!r} is not a duration")
    seconds = float(found.group(1)) * {"s": 1, "m": 60, "h": 3600}[found.group(2) or "s"]
    if seconds <= 0:
        raise click.UsageError(f"{flag} must be more than 0 seconds")
    return seconds


def pfx_password(cfg: CrrsimConfig, *, required: bool) -> str | None:
    """The pfx/key password: $CRRSIM_PFX_PASSWORD (or _KEY_), else a hidden prompt on a terminal.

    Without a terminal: ``required`` makes that a usage error; otherwise None is returned and
    the runner reports the missing password as a finding (the probe does).
    """
    secret = cfg.pfx_password or cfg.key_password
    if secret or cfg.pfx is None:
        return secret
    if not interactive():
        if required:
            raise click.UsageError(
                f"Set CRRSIM_PFX_PASSWORD to the password of {cfg.pfx.name} (no terminal to ask)."
            )
        return None
    return click.prompt(f"Password for {cfg.pfx.name}", hide_input=True, show_default=False)


def participant_passwords(participants: Sequence[Participant]) -> dict[str, str]:
    """Each pfx participant's password by SC ID: from its variable (``password_env``, else
    CRRSIM_PFX_PASSWORD_<SC>), else a hidden prompt on a terminal, else a usage error naming the
    variable. The values go to the runner only, never to a file or a command line."""
    found: dict[str, str] = {}
    for p in participants:
        if p.pfx is None:
            continue
        secret = os.environ.get(p.password_variable)
        if not secret:
            if not interactive():
                raise click.UsageError(
                    f"Set {p.password_variable} to the password of {p.pfx.name} (no terminal to ask)."
                )
            secret = click.prompt(f"Password for {p.pfx.name} ({p.sc})", hide_input=True, show_default=False)
        found[p.sc] = secret
    return found


def report_options(command: F) -> F:
    """--json/--junit/--html: the one report model written by its handlers (every runner);
    --events: the run's events as NDJSON, as they happen."""
    command = events_option(command)
    for decl, help_text in (
        ("--html", "Write an HTML report."),
        ("--junit", "Write a JUnit XML report."),
        ("--json", "Write a JSON report."),
    ):
        dest = "json_out" if decl == "--json" else decl[2:]
        command = click.option(decl, dest, type=click.Path(dir_okay=False, path_type=Path), help=help_text)(
            command
        )
    return command


def events_option(command: F) -> F:
    """``--events FILE``: the run's events as NDJSON, written as they happen."""
    return click.option(
        "--events",
        "events_out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the run's events to FILE as NDJSON, one per line, as they happen (follow it with tail -f).",
    )(command)
