"""`crrsim sandbox`: run the embedded CRR sandbox and drive its Market Sim control plane.

``crrsim sandbox`` alone (or ``serve``) runs the server in the foreground; the other
sub-commands talk to a running sandbox over HTTPS with the operator certificate of the dev PKI.
Host, port, PKI folder, database and contract come from the one config (``harness.cli.options``),
so ``serve`` and the control commands find each other through the same crrsim.yaml / CRRSIM_*.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from harness.cli.options import CannotRun, CheckFailed, config_options, require_reachable
from harness.config import CrrsimConfig
from harness.pki.devpki import dev_ca, identity_paths


class _ServeByDefault(click.Group):
    """``crrsim sandbox --port 9443`` means ``crrsim sandbox serve --port 9443``: options given
    before any sub-command belong to ``serve``, the group's default action."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0].startswith("-") and args[0] not in ctx.help_option_names:
            args = ["serve", *args]
        return super().parse_args(ctx, args)


@click.group("sandbox", cls=_ServeByDefault, invoke_without_command=True)
@click.pass_context
def command(ctx: click.Context) -> None:
    """Run the CRR sandbox (default: serve; `crrsim sandbox --port N` works too) or control a running one."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve)


@command.command("serve")
@config_options("host", "port", "pki", "specs", "db")
@click.option("--provisioning", default=None, help="YAML: certificate CN -> sc_ids/access/services/role.")
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Processes sharing the port."
)
@click.option("--access-log", is_flag=True, help="Log every request.")
@click.option(
    "--read-timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds a client may take to send a request's head or body; slower connections are closed.",
)
@click.option(
    "--loop",
    type=click.Choice(["uvloop", "asyncio"]),
    default="uvloop",
    show_default=True,
    help="Event loop (uvloop: less CPU per request).",
)
@click.option(
    "--fault",
    "faults",
    default=None,
    metavar="NAME[,NAME]",
    help="Misbehave on purpose (to test a client): wrong-type, missing-field, server-error, "
    "undocumented-status, bad-error-body, html-200, maintenance-503, slow, reset, large-ids, leak.",
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.2,
    show_default=True,
    help="Share of answers a fault is applied to.",
)
@click.option("--fault-seed", type=int, default=0, show_default=True, help="Seed of the fault draws.")
@click.option(
    "--judge",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="A client-check script: watch every request and misbehave on its schedule (crrsim client-check).",
)
@click.option(
    "--observe",
    type=click.Path(dir_okay=False),
    default=None,
    help="With --judge: write what the sandbox saw here, one JSON line per request.",
)
@click.option(
    "--trust",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="PEM certificates to accept client certificates from, besides the dev CA.",
)
@click.option(
    "--port-file",
    type=click.Path(dir_okay=False),
    default=None,
    hidden=True,
    help="Write the listening port here once ready (for launchers asking for --port 0).",
)
def serve(
    cfg: CrrsimConfig,
    provisioning: str | None,
    workers: int,
    access_log: bool,
    read_timeout: float,
    loop: str,
    faults: str | None,
    fault_rate: float,
    fault_seed: int,
    judge: str | None,
    observe: str | None,
    trust: str | None,
    port_file: str | None,
) -> None:
    """Serve the sandbox over mutual TLS until interrupted."""
    from harness.config.clientscript import ScriptError, load_script
    from harness.contract import ContractError, load_catalogue
    from harness.sandbox.store import SchemaVersionError, Store
    from harness.sandbox.web.faults import FaultError, FaultInjector
    from harness.sandbox.web.provisioning import ProvisioningError, load_provisioning
    from harness.sandbox.web.server import ServerOptions, run

    try:  # check inputs up front: a plain sentence, not a traceback from inside the server
        load_catalogue(cfg.specs)
        load_provisioning(provisioning)
        Store(cfg.sandbox_db).close()  # a database of another schema version is refused here
        FaultInjector.parse(faults, fault_rate, fault_seed)
        if judge is not None:
            load_script(Path(judge))
            if workers > 1:
                raise ScriptError("--judge watches one process's requests: leave --workers at 1")
            if observe is None:
                raise ScriptError("--judge needs --observe FILE: where to write what the sandbox saw")
    except (ContractError, ProvisioningError, SchemaVersionError, FaultError, ScriptError) as exc:
        raise click.UsageError(str(exc)) from None
    options = ServerOptions(
        cfg=cfg,
        provisioning=provisioning,
        port_file=port_file,
        workers=workers,
        access_log=access_log,
        loop=loop,
        read_timeout=read_timeout,
        faults=faults,
        fault_rate=fault_rate,
        fault_seed=fault_seed,
        judge=judge,
        observe=observe,
        trust=trust,
    )
    if port_file is None:  # a launcher reads the readiness line instead
        where = f"https://{options.host}:{options.port}/crr" if options.port else "a free port (URL below)"
        click.echo(f"crrsim sandbox on {where}; state in {options.db}; Ctrl+C stops it.")
    if run(options):
        raise CannotRun(f"the sandbox could not start on {options.host}:{options.port}")


def _control(cfg: CrrsimConfig, url: str) -> Any:
    from harness.client import ClientIdentity, CRRClient
    from harness.client.control import ControlPlane

    operator = identity_paths(cfg.sandbox_pki, "operator")
    cert, key, ca = operator.cert, operator.key, dev_ca(cfg.sandbox_pki)
    for path in (cert, key, ca):
        if not path.is_file():
            raise click.UsageError(
                f"{path} is missing; run `crrsim certs init --dir {cfg.sandbox_pki}` first."
            )
    identity = ClientIdentity.from_pem(cert, key)
    return ControlPlane(CRRClient(url, identity=identity, ca=ca, timeout=cfg.timeout, retries=cfg.retries))


def _run(cfg: CrrsimConfig, url: str | None, action: Any) -> None:
    """Run one control-plane call; the sandbox is --url, else the configured host and port."""
    from harness.client import CRRServiceException, CRRTransportError

    url = url or cfg.sandbox_url
    require_reachable(url)
    plane = _control(cfg, url)
    try:
        result = action(plane)
    except CRRServiceException as exc:
        raise CheckFailed(f"the sandbox refused: {exc}") from None
    except CRRTransportError as exc:
        raise CannotRun(f"cannot reach the sandbox at {url}: {exc}") from None
    finally:
        plane.client.close()
    click.echo(json.dumps(result, indent=2))


def control_options(fn: Any) -> Any:
    fn = config_options("pki", "timeout", reword={"pki": "Dev PKI with the operator certificate."})(fn)
    return click.option(
        "--url",
        default=None,
        help="The sandbox's CRR base URL [default: https://<sandbox_host>:<sandbox_port>/crr from config].",
    )(fn)


@command.command("setup-plan")
@click.option("--base", default=None, help="Week-1 Monday (ISO date-time); default the plan's own.")
@control_options
def setup_plan(base: str | None, url: str | None, cfg: CrrsimConfig) -> None:
    """Create the Market Sim plan's markets and seed data; sets the clock to week 1."""
    _run(cfg, url, lambda c: c.setup_plan(base))


@command.command("reset")
@click.option("--base", default=None, help="Week-1 Monday (ISO date-time); default the plan's own.")
@control_options
def reset(base: str | None, url: str | None, cfg: CrrsimConfig) -> None:
    """Empty the sandbox (every portfolio, holding, message...) and set the plan up again."""
    _run(cfg, url, lambda c: c.reset(base))


@command.command("clock")
@click.option("--set", "set_", default=None, help="Set the simulated time (ISO 8601).")
@click.option("--advance", default=None, help="Move the clock forward, e.g. 1d, 2h30m, 90s.")
@click.option("--reset", is_flag=True, help="Follow real time again.")
@control_options
def clock(set_: str | None, advance: str | None, reset: bool, url: str | None, cfg: CrrsimConfig) -> None:
    """Show or change the simulated clock."""
    if sum(bool(x) for x in (set_, advance, reset)) > 1:
        raise click.UsageError("use only one of --set, --advance, --reset")
    if set_:
        _run(cfg, url, lambda c: c.set_clock(set_))
    elif advance:
        _run(cfg, url, lambda c: c.advance_by(advance))
    elif reset:
        _run(cfg, url, lambda c: c.reset_clock())
    else:
        _run(cfg, url, lambda c: c.clock())


@command.command("open")
@click.argument("market")
@click.option("--duration", default="2d", show_default=True, help="How long the window stays open.")
@control_options
def open_(market: str, duration: str, url: str | None, cfg: CrrsimConfig) -> None:
    """Open MARKET's submission window now."""
    _run(cfg, url, lambda c: c.open_window(market, duration))


@command.command("close")
@click.argument("market")
@control_options
def close(market: str, url: str | None, cfg: CrrsimConfig) -> None:
    """Close MARKET's submission window now."""
    _run(cfg, url, lambda c: c.close_window(market))


@command.command("clear")
@click.argument("market")
@control_options
def clear(market: str, url: str | None, cfg: CrrsimConfig) -> None:
    """Clear MARKET (awards, holdings) and post its results."""
    _run(cfg, url, lambda c: c.run_clearing(market))


@command.command("nodes")
@click.argument("market")
@click.option(
    "--retire",
    multiple=True,
    metavar="NODE",
    help="Retire NODE (re-mapped to the closest biddable node of its type).",
)
@click.option(
    "--island",
    multiple=True,
    metavar="NODE",
    help="Island NODE by an outage (sell offers of CRRs held at it only).",
)
@click.option("--restore", multiple=True, metavar="NODE", help="End NODE's outage (biddable again).")
@control_options
def nodes(
    market: str,
    retire: tuple[str, ...],
    island: tuple[str, ...],
    restore: tuple[str, ...],
    url: str | None,
    cfg: CrrsimConfig,
) -> None:
    """Show MARKET's source/sink list version, or release the next one with --retire/--island/--restore."""
    if retire or island or restore:
        _run(cfg, url, lambda c: c.release_nodes(market, list(retire), list(island), list(restore)))
    else:
        _run(cfg, url, lambda c: c.node_list(market))


@command.command("markets")
@control_options
def markets(url: str | None, cfg: CrrsimConfig) -> None:
    """List all markets with their status."""
    _run(cfg, url, lambda c: c.markets())


@command.command("message")
@click.argument("text")
@click.option("--to", "to", multiple=True, help="Recipient SC ID (repeatable); default: public.")
@control_options
def message(text: str, to: tuple[str, ...], url: str | None, cfg: CrrsimConfig) -> None:
    """Publish a market notice (public, or private to --to SCs)."""
    _run(cfg, url, lambda c: c.publish_message(text, list(to) or None))
