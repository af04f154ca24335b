"""How long the simultaneous-feasibility clearing takes at CAISO's scale, and its memory.

A monthly auction of ``--participants`` x ``--bids`` buy bids (each a falling ``--points``-point
curve between two biddable nodes, half ON and half OFF peak), cleared as one linear program per
TOU on the 300-bus network (``harness.sandbox.domain.sft.clear``). Prints, per TOU: the program's
size (step and path variables, branch rows), the solve time, what was awarded, the binding branches
and the peak memory of the process.

    .venv/bin/python bench/clearing.py [--participants 100] [--bids 500] [--points 20] [--seed 1]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--bids", type=int, default=500)
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
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


if __name__ == "__main__":
    main()
