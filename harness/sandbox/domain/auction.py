"""CRR Auction service: portfolios of buy bids and sell offers (lifecycle in ``portfolios``).

Bid-curve rules, read from the contract ("minimum of two and up to 20 bid points"; a buy curve
"monotonically non-decreasing and starts with zero bid MW"; an offer curve "monotonically
non-increasing and starts with zero bid MW") and made exact:

* every curve starts at 0 MW, its MW never decrease along the points, and its last point has
  more than 0 MW (a curve that never leaves 0 MW bids for nothing);
* a BUY curve is a demand curve: price never increases as MW grow (the "non-decreasing" of the
  contract is the MW axis: a buy curve whose price rose with MW would bid more for the last MW
  than for the first);
* a SELL offer curve is a supply curve: price never decreases as MW grow. The contract's
  "non-increasing" cannot apply to the MW axis (a curve that starts at 0 MW and never increases
  offers nothing), so we read it, like the buy rule, as the curve seen from the market: each
  further MW sold needs at least the price of the previous one;
* two points at the same MW must not differ in price (a vertical step is ambiguous about
  which price applies to that MW).

Other rules: buy bids are for new auction CRRs (``crrType`` AUC); a sell offer must name a CRR
(``crrId``) that the participant holds with the same source, sink, hedge type, TOU, period and
CRR type, may not offer more MW than it holds, and one upload may not offer the same CRR twice.
At submission the offered CRRs are checked again (still held, not offered by another submitted
portfolio) and the participant's credit (``credit``) must cover the portfolio."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from harness.sandbox.domain import holdings, participants, portfolios
from harness.sandbox.domain.credit import cents_to_dollars, counted_credit_cents, over_limit
from harness.sandbox.domain.markets import AUCTION
from harness.sandbox.domain.portfolios import CreateContext, PortfolioRules, Record, cents, milli

Curve = tuple[tuple[int, int], ...]


_COMMON = ("assetOwner", "source", "sink", "hedgeType", "tou", "period", "crrType", "bidCurve", "description")


def curve_problems(points: Sequence[Mapping[str, Any]], side: str) -> tuple[Curve, list[str]]:
    """Exact bid-curve rules (see module docstring); returns the curve in milli-MW and cents.

    Memoised on the raw values: a portfolio typically repeats a handful of curve shapes, and
    checking 500 x 20 points from scratch is most of an upload's cost.
    """
    key = (side, tuple([(p["mw"], p["price"]) for p in points]))
    found = _CURVES.get(key)
    if found is None:
        found = _check_curve(points, side)
        if len(_CURVES) >= _CURVE_CACHE_SIZE:
            _CURVES.clear()
        _CURVES[key] = found
    return found[0], list(found[1])


_CURVES: dict[tuple[str, tuple[tuple[Any, Any], ...]], tuple[Curve, tuple[str, ...]]] = {}


_CURVE_CACHE_SIZE = 4096


def _check_curve(points: Sequence[Mapping[str, Any]], side: str) -> tuple[Curve, tuple[str, ...]]:
    curve = tuple([(milli(p["mw"]), cents(p["price"])) for p in points])
    problems: list[str] = []
    if not 2 <= len(curve) <= 20:
        problems.append(f"bidCurve has {len(curve)} points; 2 to 20 are allowed")
        return curve, tuple(problems)
    if curve[0][0] != 0:
        problems.append(f"the first bid point must have mw 0, not {points[0]['mw']}")
    if curve[-1][0] <= 0:
        problems.append("the last bid point must have more than 0 MW")
    buy = side == "BUY"
    for i in range(1, len(curve)):
        (m0, p0), (m1, p1) = curve[i - 1], curve[i]
        if m1 < m0:
            problems.append(
                f"bid point {i} has less MW ({points[i]['mw']}) than point {i - 1}; MW may not decrease"
            )
        elif m1 == m0 and p1 != p0:
            problems.append(f"bid points {i - 1} and {i} have the same MW with different prices")
        if buy and p1 > p0:
            problems.append(
                f"bid point {i} has a higher price ({points[i]['price']}) than point {i - 1}; "
                "a buy curve's price may not increase with MW"
            )
        if not buy and p1 < p0:
            problems.append(
                f"offer point {i} has a lower price ({points[i]['price']}) than point {i - 1}; "
                "an offer curve's price may not decrease with MW"
            )
    return curve, tuple(problems)


class AuctionRules(PortfolioRules):
    service = "auction"
    market_type = AUCTION
    collections = (("BUY", "newBids", "bids"), ("SELL", "newOffers", "offers"))
    id_field = "bidId"
    record_fields = {"BUY": _COMMON, "SELL": ("crrId", *_COMMON)}
    # CAISO's auction contract lists NOM0129 (added with the retraction codes POR0011/POR0012)
    # for a retraction the window no longer allows; everything else is a market check.
    closed_codes = {"create": "MKT0004", "submit": "MKT0004", "retract": "NOM0129", "delete": "MKT0004"}
    in_error_code = "AUC0037"
    shared_field = "bidCurve"
    key_properties = ("assetOwner", "source", "sink", "hedgeType", "tou", "period", "crrType")
    key_optional = ("crrId",)  # offers
    key_by_identity = ("bidCurve",)

    def prepare(
        self, conn: sqlite3.Connection, ctx: CreateContext, raw: Sequence[tuple[str, dict[str, Any]]]
    ) -> None:
        super().prepare(conn, ctx, raw)
        ids = {int(item["crrId"]) for side, item in raw if side == "SELL" and "crrId" in item}
        ctx.data["crrs"] = {i: holdings.get_crr(conn, i) for i in ids}

    def parse(self, side: str, raw: dict[str, Any], ctx: CreateContext) -> tuple[Record | None, list[str]]:
        problems = self.location_problems(raw, ctx, side)
        points = raw.get("bidCurve") or []
        # records that repeat a curve share one parsed list (validation folds repeated arrays):
        # check it once per upload; the memo holds the list, so its id stays unique meanwhile
        memo = ctx.data.setdefault("_curves", {})
        seen = memo.get((id(points), side))
        if seen is None:
            found = curve_problems(points, side)
            seen = memo[(id(points), side)] = (
                points,
                found[0],
                found[1],
                max((m for m, _ in found[0]), default=0),
            )
        _, curve, curve_issues, top = seen
        curve_issues = list(curve_issues)
        problems += curve_issues
        crr_id = None
        if side == "BUY":
            if raw.get("crrType") != "AUC":
                problems.append(
                    f"crrType {raw.get('crrType')} cannot be bought in an auction; buy bids are AUC"
                )
        else:
            crr_id = int(raw.get("crrId", 0))
            problems += self._offer_problems(raw, ctx.data["crrs"].get(crr_id), ctx.participant, curve)
        if problems:
            return None, problems
        # Records are frozen values: bids that say the same thing share one (no per-bid churn)
        key = (
            side,
            raw["assetOwner"],
            raw["source"],
            raw["sink"],
            raw["hedgeType"],
            raw["tou"],
            raw["period"],
            raw["crrType"],
            id(curve),
            crr_id,
        )
        made = ctx.data.setdefault("_records", {})
        record = made.get(key)
        if record is None:
            record = made[key] = Record(
                side=side,
                asset_owner=raw["assetOwner"],
                source=raw["source"],
                sink=raw["sink"],
                hedge_type=raw["hedgeType"],
                tou=raw["tou"],
                period=raw["period"],
                crr_type=raw["crrType"],
                mw_milli=top,
                curve=curve,
                crr_id=crr_id,
            )
        return record, []

    @staticmethod
    def _offer_problems(
        raw: Mapping[str, Any], crr: holdings.CRR | None, participant: str, curve: Curve
    ) -> list[str]:
        crr_id = raw.get("crrId")
        if crr is None or crr.owner != participant or crr.mw <= 0:
            return [f"CRR {crr_id} is not held by {participant}; only held CRRs can be offered for sale"]
        problems = []
        for key, held in (
            ("source", crr.source),
            ("sink", crr.sink),
            ("hedgeType", crr.hedge_type),
            ("tou", crr.tou),
            ("period", crr.period),
            ("crrType", crr.crr_type),
        ):
            if raw.get(key) != held:
                problems.append(f"{key} {raw.get(key)} differs from CRR {crr_id}'s {held}")
        offered = max((m for m, _ in curve), default=0)
        if offered > milli(crr.mw):
            problems.append(f"offer of {offered / 1000:g} MW exceeds the {crr.mw:g} MW held in CRR {crr_id}")
        return problems

    def check_portfolio(
        self, records: Sequence[Record], raw: Sequence[tuple[str, dict[str, Any]]]
    ) -> list[str]:
        seen: set[int] = set()
        problems = []
        for r in records:
            if r.crr_id is not None:
                if r.crr_id in seen:
                    problems.append(f"CRR {r.crr_id} is offered more than once in this portfolio")
                seen.add(r.crr_id)
        return problems

    def submission_errors(
        self, conn: sqlite3.Connection, portfolio: sqlite3.Row, records: list[Record]
    ) -> list[str]:
        offers = [r for r in records if r.side == "SELL"]
        if not offers:
            return []
        owner = portfolio["participant"]
        elsewhere = {
            r.crr_id
            for r in portfolios.submitted_records(conn, self.service, portfolio["market"], side="SELL")
            if r.portfolio_id != portfolio["portfolio_id"]
        }
        problems = []
        for r in offers:
            crr = holdings.get_crr(conn, r.crr_id or 0)
            if crr is None or crr.owner != owner or milli(crr.mw) < r.mw_milli:
                held = 0 if crr is None or crr.owner != owner else crr.mw
                problems.append(
                    f"CRR {r.crr_id} now holds {held:g} MW for {owner}; the offer of bid {r.record_id}"
                    f" for {r.mw_milli / 1000:g} MW can no longer be sold"
                )
            elif r.crr_id in elsewhere:
                problems.append(f"a sell offer of CRR {r.crr_id} is already submitted in another portfolio")
        return problems

    def required_credit_cents(self, records: Sequence[Record]) -> int:
        # records that say the same thing are one object (check_records): count them in C and
        # look at each distinct one once
        counts = Counter(map(id, records))
        distinct = dict(zip(map(id, records), records, strict=True))
        return counted_credit_cents(
            (r.curve, counts[key]) for key, r in distinct.items() if r.side == "BUY" and r.curve
        )

    def credit_problem(self, conn: sqlite3.Connection, portfolio: sqlite3.Row) -> str | None:
        participant = portfolio["participant"]
        row = conn.execute(
            "SELECT COALESCE(SUM(required_credit_cents), 0) FROM crr_portfolios"
            " WHERE service = ? AND market = ? AND participant = ? AND status = 'SUBMITTED'",
            (self.service, portfolio["market"], participant),
        ).fetchone()
        existing, needed = int(row[0]), int(portfolio["required_credit_cents"])
        limit = participants.credit_limit(conn, participant)
        if not over_limit(existing, needed, limit):
            return None
        return (
            f"Portfolio {portfolio['name']} needs ${cents_to_dollars(needed):,.2f} of credit; with"
            f" ${cents_to_dollars(existing):,.2f} already committed to submitted portfolios in"
            f" {portfolio['market']}, that exceeds {participant}'s credit limit of ${limit:,.2f}."
        )


RULES = AuctionRules()
