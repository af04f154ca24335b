"""How long the simultaneous-feasibility clearing takes at CAISO's scale, and its memory.

A monthly auction of ``--participants`` x ``--bids`` buy bids (each a falling ``--points``-point
curve between two biddable nodes, half ON and half OFF peak), cleared as one linear program per
TOU on the 300-bus network (``harness.sandbox.domain.sft.clear``). Prints, per TOU: the program's
size (step and path variables, branch rows), the solve time, what was awarded, the binding branches
and the peak memory of the process. Then the same auction end to end in the sandbox: portfolios
checked and stored SUBMITTED, and the ``market.clear`` the operator's ``run_clearing`` runs.

    .venv/bin/python bench/clearing.py [--participants 100] [--bids 500] [--points 20] [--seed 1] [--lp-only]
"""

from __future__ import annotations

import argparse
import random
import resource
import time

from harness.sandbox.domain.grid import load_grid
from harness.sandbox.domain.network import NODES
from harness.sandbox.domain.sft import Step, clear


def bids(participants: int, per: int, points: int, tou: str, seed: int) -> list[Step]:
    rng = random.Random(f"{seed}-{tou}")
    names = [n.name for n in NODES if n.biddable]
    out = []
    for p in range(participants):
        for b in range(per // 2):
            source, sink = rng.sample(names, 2)
            top, width = rng.uniform(1, 60), rng.uniform(5, 50)
            for k in range(points - 1):  # points - 1 steps between the points
                out.append(Step((p, b, k), source, sink, width / (points - 1), top * (1 - k / points)))
    return out


def sandbox_clearing(participants: int, per: int, points: int, seed: int) -> None:
    """The sandbox's own ``market.clear`` on a store holding the submitted portfolios: what the
    operator's ``run_clearing`` costs, records read, both TOUs solved, holdings granted, results
    written (portfolios are checked by the auction's rules and inserted SUBMITTED, as an upload
    and a submission leave them)."""
    import asyncio
    import tempfile
    from pathlib import Path

    from harness.sandbox.domain import clearing as _clearing
    from harness.sandbox.domain import portfolios
    from harness.sandbox.domain.auction import RULES

    clear_market = _clearing.clear_market
    from harness.sandbox.domain.clock import Clock
    from harness.sandbox.domain.markets import require_market
    from harness.sandbox.domain.plan import setup_plan
    from harness.sandbox.store import Store

    market = "AUC_MN_2026_M03"
    names = [n.name for n in NODES if n.biddable]
    owners = ("ECAL", "WCAL", "NCAL")  # the plan's participants; each holds a third of the portfolios
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "crr.db")
        clock = Clock(store)
        with store.write() as conn:
            setup_plan(conn, clock)
            m = require_market(conn, market, clock)
        rng = random.Random(seed)
        start = time.perf_counter()
        for p in range(participants):
            owner = owners[p % len(owners)]
            bids = []
            for b in range(per):
                source, sink = rng.sample(names, 2)
                top, width = rng.uniform(1, 60), rng.uniform(5, 50)
                curve = [
                    {"mw": round(width * k / (points - 1), 3), "price": round(top * (1 - k / points), 2)}
                    for k in range(points)
                ]
                bids.append(
                    {
                        "assetOwner": owner,
                        "source": source,
                        "sink": sink,
                        "hedgeType": "OBL",
                        "tou": "ON" if b % 2 else "OFF",
                        "period": "2026_M03",
                        "crrType": "AUC",
                        "bidCurve": curve,
                    }
                )
            body = {
                "portfolioName": f"bench {p}",
                "marketName": market,
                "participantName": owner,
                "newBids": bids,
            }
            raw = portfolios.upload_records(RULES, body)
            ctx = portfolios.CreateContext(owner, m, {})
            with store.read() as conn:
                RULES.prepare(conn, ctx, raw)
            records = asyncio.run(portfolios.check_records(RULES, ctx, raw))
            with store.write() as conn:
                portfolios.insert(
                    conn, RULES, market, owner, f"bench {p}", "SUBMITTED", raw, records, clock.now()
                )
        loaded = time.perf_counter() - start
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        with store.write() as conn:
            clear_market(conn, m, clock)
        took = time.perf_counter() - start
        with store.read() as conn:
            awards = conn.execute("SELECT COUNT(*), SUM(mw_milli) FROM clearing_awards").fetchone()
            binding = conn.execute("SELECT COUNT(*) FROM clearing_constraints").fetchone()[0]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"\nsandbox market.clear of {participants * per:,} bids x {points} points (portfolios built and"
            f" checked in {loaded:.1f} s): **{took:.1f} s** for both TOUs; {awards[0]:,} awards,"
            f" {(awards[1] or 0) / 1000:,.0f} MW, {binding} binding branches; peak RSS {max(rss, rss_before):.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--bids", type=int, default=500)
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lp-only", action="store_true", help="skip the sandbox's end-to-end clearing")
    args = parser.parse_args()
    grid = load_grid()
    print("| TOU | steps | paths | branch rows | solve (s) | awarded MW | binding branches | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|")
    total = 0.0
    for tou in ("ON", "OFF"):
        steps = bids(args.participants, args.bids, args.points, tou, args.seed)
        start = time.perf_counter()
        result = clear(grid, steps)
        took = time.perf_counter() - start
        total += took
        paths = len({(s.source, s.sink) for s in steps})
        awarded = sum(result.awards.values())
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"| {tou} | {len(steps):,} | {paths} | {2 * len(grid.branches)} | {took:.1f} | {awarded:,.0f} | "
            f"{len(result.binding)} | {rss:.0f} |"
        )
    print(f"both TOUs: {total:.1f} s")
    if not args.lp_only:
        sandbox_clearing(args.participants, args.bids, args.points, args.seed)


if __name__ == "__main__":
    main()
