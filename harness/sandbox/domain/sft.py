"""Clearing CRRs by simultaneous feasibility: one linear program per TOU and period, as CAISO does.

Variables: the MW awarded on each step of each curve, between 0 and the step's width. Objective:
the bid value of awarded MW minus the offer value of sold MW (a sold CRR from A to B frees the
network as much as a new one from B to A loads it). Constraints: on every monitored branch, in
both directions, the flow of the awarded CRRs plus the CRRs already held (which baseload the
network) within the branch's limit. Solved by HiGHS (``scipy.optimize.linprog(method="highs")``).

Prices come from the duals: a branch's shadow price is what one more MW of its limit is worth;
a bus's price is minus the shadow prices weighted by its PTDFs; a path's clearing price is its
sink's price minus its source's. So prices add up across paths, a counterflow path clears at a
negative price and an uncongested one at 0, and the auction's revenue equals the congestion rent.
HiGHS is deterministic: the same inputs give the same awards.

Plain values in (``Step``, ``Held``), plain values out (``Clearing``): no request, no store.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from harness.sandbox.domain.grid import Branch, Grid

EPS_MW = 1e-6


class Step(NamedTuple):
    """One step of a bid (buy) or offer (sell) curve: up to ``mw`` at ``price`` $/MW (a tuple:
    a monthly auction makes ~10^6 of them, and a frozen dataclass costs three times as much)."""

    key: Hashable
    source: str
    sink: str
    mw: float
    price: float
    sell: bool = False


@dataclass(frozen=True)
class Held:
    """A CRR already held: its flow loads the network before anything is awarded."""

    source: str
    sink: str
    mw: float


@dataclass(frozen=True)
class BindingBranch:
    branch: Branch
    shadow_price: float  # $/MW of limit, > 0
    flow_mw: float  # signed, in the direction that binds


@dataclass
class Clearing:
    grid: Grid
    awards: dict[Hashable, float]
    bus_prices: NDArray[np.float64]
    binding: list[BindingBranch] = field(default_factory=list)
    flows: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    rent: float = 0.0  # congestion rent: sum of shadow price x capacity left for the awards
    awarded: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))  # MW per step, in order

    def node_price(self, name: str) -> float:
        return self.grid.price(name, self.bus_prices)

    def path_price(self, source: str, sink: str) -> float:
        """$/MW of a CRR from ``source`` to ``sink``: sink price minus source price."""
        return self.node_price(sink) - self.node_price(source)

    def revenue(self, steps: Sequence[Step]) -> float:
        """What the awards pay at the clearing prices (sold MW are paid out)."""
        return sum(
            (-1 if s.sell else 1) * self.awards[s.key] * self.path_price(s.source, s.sink) for s in steps
        )


class ClearingError(RuntimeError):
    """The program has no solution (held CRRs alone overload a branch); the message says which."""


def clear(grid: Grid, steps: Sequence[Step], held: Sequence[Held] = ()) -> Clearing:
    """Award ``steps`` as the simultaneous feasibility test allows, with ``held`` baseloading.

    The program has one variable per step and one per path (source, sink) used: the branches see
    only the paths' totals (PTDFs depend on the path, not the bid), so a monthly auction's
    ~10^6 curve steps meet a branches x paths matrix of a few hundred columns, not a dense
    branches x steps one."""
    # imported here, not at the top: scipy.optimize costs ~0.6 s, and every sandbox process imports
    # this module at start-up (the control plane's clearing) though few ever clear a market
    from scipy import sparse
    from scipy.optimize import linprog

    limits = grid.limits
    base = np.zeros(len(limits))
    for h in held:
        base += h.mw * grid.shift(h.source, h.sink)
    if not steps:
        return Clearing(grid, {}, np.zeros(len(grid.bus_numbers)), [], base, 0.0, np.zeros(0))
    paths: dict[tuple[str, str], int] = {}
    for s in steps:
        paths.setdefault((s.source, s.sink), len(paths))
    n, p = len(steps), len(paths)
    shift = np.column_stack([grid.shift(a, b) for a, b in paths])  # branches x paths
    # only branches a path or a held CRR moves can bind; the others stay out of the program
    rows = np.flatnonzero((np.abs(shift).max(axis=1) > 1e-9) | (np.abs(base) > 1e-9))
    a = shift[rows]
    b_ub = np.concatenate([limits[rows] - base[rows], limits[rows] + base[rows]])
    if np.any(b_ub < -EPS_MW):
        worst = rows[int(np.argmin(b_ub)) % len(rows)]
        raise ClearingError(f"the CRRs already held overload {grid.branches[worst].name} before any award")
    # variables: [steps..., path totals...]; each path total is its bought steps minus its sold ones
    column = np.fromiter((paths[(s.source, s.sink)] for s in steps), dtype=np.int64, count=n)
    sign = np.fromiter((-1.0 if s.sell else 1.0 for s in steps), dtype=np.float64, count=n)
    a_eq = sparse.hstack(
        [sparse.csr_matrix((-sign, (column, np.arange(n))), shape=(p, n)), sparse.identity(p, format="csr")]
    )
    a_ub = sparse.hstack([sparse.csr_matrix((2 * len(rows), n)), sparse.csr_matrix(np.vstack([a, -a]))])
    value = np.concatenate([sign * np.fromiter((s.price for s in steps), np.float64, n), np.zeros(p)])
    result = linprog(
        -value,
        A_ub=a_ub.tocsr(),
        b_ub=np.maximum(b_ub, 0.0),
        A_eq=a_eq.tocsr(),
        b_eq=np.zeros(p),
        bounds=np.column_stack(
            [
                np.concatenate([np.zeros(n), np.full(p, -np.inf)]),
                np.concatenate([np.fromiter((s.mw for s in steps), np.float64, n), np.full(p, np.inf)]),
            ]
        ),
        method="highs",
        # presolve finds nothing to remove in ~10^6 bounded step columns tied to a few hundred
        # path rows, yet took three quarters of the time (bench/clearing.py: 23 s with it, 5 s
        # without, the same awards); the dual simplex starts at once without it
        options={"presolve": False},
    )
    if result.status != 0:
        raise ClearingError(f"the clearing program did not solve: {result.message}")
    x = np.asarray(result.x)
    marginals = -np.asarray(result.ineqlin.marginals)  # >= 0: value of one more MW of limit
    up, down = marginals[: len(rows)], marginals[len(rows) :]
    shadow = np.zeros(len(limits))
    shadow[rows] = up - down  # positive: binding in the branch's direction; negative: reverse
    bus_prices = -(shadow @ grid.ptdf)
    flows = base + shift @ x[n:]
    binding = [
        BindingBranch(grid.branches[i], abs(float(shadow[i])), float(flows[i]))
        for i in np.flatnonzero(np.abs(shadow) > 1e-7)
    ]
    rent = float(up @ (limits[rows] - base[rows]) + down @ (limits[rows] + base[rows]))
    awarded = np.where(x[:n] > EPS_MW, x[:n], 0.0)
    awards = dict(zip((s.key for s in steps), awarded.tolist(), strict=True))
    return Clearing(grid, awards, bus_prices, binding, flows, rent, awarded)
