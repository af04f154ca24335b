"""Connectivity self-certification through the probe (harness.probe), as participants run it."""

from __future__ import annotations

import os

import pytest

from harness.probe import ProbeResult, ProbeSettings, ServiceStatus, run_probe
from harness.scenarios.env import PASSWORD_ENV
from harness.scenarios.steplib import parsers, then, when
from scenarios.context import ScenarioContext


def _probe(ctx: ScenarioContext, sc: str, identity: str | None) -> None:
    env = ctx.env
    if env.pki is None:
        s = env.settings
        if identity is not None or sc != s.participant:
            pytest.skip("only your own certificate can be probed outside the sandbox")
        # the pfx password the run was given (never a setting): without it a pfx cannot be opened
        settings = ProbeSettings(
            target=env.base_url,
            participant=sc,
            cert=s.cert,
            key=s.key,
            pfx=s.pfx,
            ca=env.ca(),
            password=os.environ.get(PASSWORD_ENV),
            specs=s.specs,
        )
    else:
        cert, key = env.identity_files(identity or env.participant(sc).identity)
        settings = ProbeSettings(
            target=env.base_url,
            participant=sc,
            cert=cert,
            key=key,
            ca=env.ca(),
            specs=env.settings.specs,
        )
    ctx.data["probe"] = run_probe(settings)


def result(ctx: ScenarioContext) -> ProbeResult:
    return ctx.need("probe", "the probe has not run in this scenario")


@when(parsers.parse('participant "{sc}" runs the connectivity probe'))
def participant_probes(ctx: ScenarioContext, sc: str) -> None:
    """Run the connectivity probe with that participant's own certificate."""
    _probe(ctx, sc, None)


@when(parsers.parse('the connectivity probe runs with the "{identity}" certificate for "{sc}"'))
def probe_with_identity(ctx: ScenarioContext, identity: str, sc: str) -> None:
    """Run the probe for an SC ID with a named dev certificate (sandbox only)."""
    _probe(ctx, sc, identity)


@when(parsers.parse('the connectivity probe runs with the bad certificate "{certificate}"'))
def probe_with_bad(ctx: ScenarioContext, certificate: str) -> None:
    """Run the probe for ECAL with one of the deliberately broken dev certificates."""
    _probe(ctx, "ECAL", certificate)


@then(parsers.re(r"the participant is (?P<neg>not )?certified"))
def certified(ctx: ScenarioContext, neg: str | None) -> None:
    """The probe's verdict is CERTIFIED (or NOT CERTIFIED)."""
    probe = result(ctx)
    if neg:
        assert not probe.certified, "the probe certified a certificate it must refuse"
    else:
        assert probe.certified, "not certified: " + "; ".join(probe.problems())


@then(parsers.parse("all {count:d} CRR services answered the probe"))
def all_services(ctx: ScenarioContext, count: int) -> None:
    """Every CRR service was called and answered OK."""
    services = result(ctx).services
    ok = sorted(s.service for s in services if s.ok)
    assert len(ok) == count == len(services), f"{len(ok)} of {len(services)} services answered OK: {ok}"


@then("the probe names the services the certificate may not use")
def names_denied_services(ctx: ScenarioContext) -> None:
    """Services the certificate is not provisioned for are reported as such, others answer OK."""
    services = result(ctx).services
    denied = [s for s in services if s.status in (ServiceStatus.NOT_PROVISIONED, ServiceStatus.ACCESS_DENIED)]
    assert denied, "the probe reported no service the certificate may not use"
    assert all(s.diagnosis for s in denied), "a refused service came without a diagnosis"
    assert any(s.ok for s in services), "no service at all answered the partially provisioned certificate"


@then("no CRR service accepted the certificate")
def no_service_accepted(ctx: ScenarioContext) -> None:
    """Not one service call succeeded with the bad certificate."""
    accepted = [s.service for s in result(ctx).services if s.ok]
    assert not accepted, f"services accepted the bad certificate: {accepted}"
