"""CRR Load Migration: a UDC's customer counts, DASR summary and customer rates."""

from __future__ import annotations

from typing import Any

import pytest

from harness.scenarios.pytest_plugin import writes
from harness.scenarios.steplib import given, parsers, then, when
from scenarios import datafiles
from scenarios.context import ScenarioContext

SERVICE = "load_migration"
# what: (post operation, body collection, read operation, answer collection, record builder)
SUBMISSIONS: dict[str, tuple[str, str, str, str]] = {
    "the number of customers": (
        "postNumberOfCustomers",
        "numberOfCustomerRecords",
        "getExistingNumberOfCustomers",
        "numberOfCustomerRecords",
    ),
    "the DASR summary": ("postDasrSummary", "dasrRecords", "getExistingDasrSummary", "dasrRecords"),
    "customer rates": (
        "postCustomerRates",
        "customerRateRecords",
        "getExistingCustomerRates",
        "customerRateRecords",
    ),
}
INTEGER_FIELDS = ("numberOfCustomers", "numCustomerTransfer", "seasonNumber", "year")
READS = {
    "number of customers": "the number of customers",
    "DASR summary": "the DASR summary",
    "customer rates": "customer rates",
}


def record(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in INTEGER_FIELDS:
            out[key] = int(value)
        elif key == "kwRate":
            out[key] = datafiles.number(value)
        else:
            out[key] = value
    return out


def lm_market(ctx: ScenarioContext) -> dict[str, Any]:
    return ctx.need(
        "lm_market", "no load migration market chosen: add 'Given an active load migration market'"
    )


@given("an active load migration market")
def active_lm_market(ctx: ScenarioContext) -> None:
    """Pick the active load migration market whose UDC window is open."""
    ctx.call(SERVICE, "getActiveLoadMigrationMarketList", params={"participantName": ctx.me.sc})
    open_markets = [m for m in ctx.expect_ok() or [] if m.get("marketStatus") == "OPEN"]
    if not open_markets:
        pytest.skip(f"no load migration market is open for UDC data on {ctx.env.settings.target}")
    ctx.data["lm_market"] = open_markets[0]


@when(
    parsers.re(
        r'I submit (?P<what>the number of customers|the DASR summary|customer rates) from the file "(?P<file>[^"]+)" as UDC "(?P<udc>[^"]+)"'
    )
)
@writes
def submit_udc_data(ctx: ScenarioContext, what: str, file: str, udc: str) -> None:
    """Upload a UDC's load migration file (columns as the contract's record fields)."""
    market = lm_market(ctx)
    post_op, collection, _, _ = SUBMISSIONS[what]
    body: dict[str, Any] = {
        "loadMigrationMarket": market["marketName"],
        "udcName": udc,
        collection: [record(r) for r in datafiles.rows(file)],
    }
    if post_op == "postDasrSummary":
        body["effectiveDate"] = market["effectiveDate"]
    ctx.call(SERVICE, post_op, params={"participantName": ctx.me.sc}, body=body)


@then(
    parsers.re(
        r"the existing (?P<what>number of customers|DASR summary|customer rates) holds? (?P<count>\d+) records"
    )
)
def existing_udc_data(ctx: ScenarioContext, what: str, count: str) -> None:
    """Reading the UDC data back for the market gives this many records."""
    _, _, read_op, collection = SUBMISSIONS[READS[what]]
    ctx.call(
        SERVICE,
        read_op,
        params={"loadMigrationMarketName": lm_market(ctx)["marketName"], "participantName": ctx.me.sc},
    )
    body = ctx.expect_ok()
    sets = body if isinstance(body, list) else [body]
    found = sum(len(s.get(collection, [])) for s in sets if isinstance(s, dict))
    assert found == int(count), f"the existing {what} holds {found} records, expected {count}"
