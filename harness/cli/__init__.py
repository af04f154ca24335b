"""The ``crrsim`` command: a thin layer over the harness packages.

Sub-commands live in their own modules and are imported only when used, so ``crrsim --help``
stays instant and one broken runner cannot take the others down.
"""

from __future__ import annotations

import importlib

import click

from harness import __version__

# command name -> module under harness.cli exposing ``command`` (a click command or group)
COMMANDS: dict[str, str] = {
    "specs": "specs",
    "certs": "certs",
    "sandbox": "sandbox",
    "probe": "probe",
    "scenarios": "scenarios",
    "report": "report",
    "marketsim": "marketsim",
    "fuzz": "fuzz",
    "load": "load",
    "client-check": "clientcheck",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if _load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _load(cmd_name)


def _load(name: str) -> click.Command | None:
    module = COMMANDS.get(name)
    if module is None:
        return None
    try:
        mod = importlib.import_module(f"harness.cli.{module}")
    except ModuleNotFoundError as exc:
        if exc.name == f"harness.cli.{module}":
            return None
        raise
    return getattr(mod, "command", None)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crrsim")
@click.option(
    "--no-color",
    is_flag=True,
    help="No colour in any output (as NO_COLOR=1 does); colour is used on terminals only.",
)
def cli(no_color: bool) -> None:
    """Market Sim test harness and connectivity checker for the CAISO CRR B2B APIs."""


def main() -> None:
    cli()
