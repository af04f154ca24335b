"""The network a CRR auction clears on: the IEEE 300-bus test case with CAISO's names on it.

Why this case: it is public, a few hundred buses (the size the issue asks for: enough branches
for real congestion patterns, small enough that a DC power flow's PTDFs are a 411 x 300 matrix),
and it ships inside PYPOWER (``pypower.case300``), a maintained PyPI package with no data files
to fetch. Its four zones become CAISO's (PG&E, SCE, SDG&E, VEA); every bus is a PNode; the names
participants already bid with keep working:

* the GEN PNodes (``DIABLO_7_N001`` ...) sit on generator buses of their zone;
* a DLAP is every load bus of its zone weighted by its load; an SLAP the half of those buses with
  the larger loads; a trading hub every generator bus of its zones weighted by capacity
  (``TH_ZP26`` the southern half of PG&E's, where Path 26 lies).

The case carries no branch ratings (all 9,900 MVA), so each branch's limit is derived once from
the case's own dispatch: 125% of its DC base flow, rounded up to 10 MW, and at least 100 MW.
CRRs are financial: the auction's feasibility test asks whether the awarded MW (and the CRRs
already held) fit within those limits, as CAISO's simultaneous feasibility test does.

Pure numpy, no request objects: ``Grid.shift(source, sink)`` is the flow on every branch per MW
injected at ``source`` and withdrawn at ``sink``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from harness.sandbox.domain.network import NODES

ZONES = {1: "PGAE-30", 2: "SCE-31", 3: "SDGE-32", 9: "VEA-33"}
MIN_LIMIT_MW = 100.0
HEADROOM = 1.25
# the case's columns (MATPOWER format)
BUS_I, BUS_TYPE, PD, ZONE = 0, 1, 2, 10
F_BUS, T_BUS, BR_X, TAP, BR_STATUS = 0, 1, 3, 8, 10
GEN_BUS, PG, PMAX, GEN_STATUS = 0, 1, 8, 7
REF = 3


@dataclass(frozen=True)
class Branch:
    name: str  # e.g. "BR_9001_9005_1", the BINDING_CONSTRAINT file's constraint name
    from_bus: int
    to_bus: int
    limit_mw: float
    reactance: float = 0.0  # per unit: the electrical distance between its buses


@dataclass(frozen=True)
class Grid:
    bus_numbers: tuple[int, ...]
    zones: tuple[str, ...]  # per bus
    branches: tuple[Branch, ...]
    ptdf: NDArray[
        np.float64
    ]  # branches x buses: MW on the branch per MW injected at the bus (slack withdraws)
    nodes: dict[str, NDArray[np.float64]]  # PNode or aggregate name -> weights over buses (sum 1)

    @property
    def limits(self) -> NDArray[np.float64]:
        return np.array([b.limit_mw for b in self.branches])

    def weights(self, name: str) -> NDArray[np.float64]:
        try:
            return self.nodes[name]
        except KeyError:
            raise KeyError(f"{name} is not a node of the network") from None

    def shift(self, source: str, sink: str) -> NDArray[np.float64]:
        """Flow on every branch per MW of a CRR from ``source`` to ``sink``."""
        result: NDArray[np.float64] = self.ptdf @ (self.weights(source) - self.weights(sink))
        return result

    def main_bus(self, name: str) -> int:
        """The bus a node is mostly made of (an aggregate's heaviest member): its position."""
        return int(np.argmax(self.weights(name)))

    def distances(self, name: str) -> NDArray[np.float64]:
        """Electrical distance from a node's main bus to every bus: the smallest sum of branch
        reactances along a path of branches (inf where no branch path connects them)."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

        index = {n: i for i, n in enumerate(self.bus_numbers)}
        rows = [index[b.from_bus] for b in self.branches]
        cols = [index[b.to_bus] for b in self.branches]
        x = [max(b.reactance, 1e-6) for b in self.branches]
        graph = csr_matrix((x, (rows, cols)), shape=(len(self.bus_numbers),) * 2)
        result: NDArray[np.float64] = dijkstra(graph, directed=False, indices=self.main_bus(name))
        return result

    def closest(self, name: str, candidates: list[str]) -> str | None:
        """The candidate electrically closest to ``name`` (ties: the name first in order), or None
        when no candidate is connected to it."""
        far = self.distances(name)
        reach = [(float(far[self.main_bus(c)]), c) for c in sorted(candidates) if c != name]
        reach = [(d, c) for d, c in reach if np.isfinite(d)]
        return min(reach)[1] if reach else None

    def price(self, name: str, bus_prices: NDArray[np.float64]) -> float:
        """A node's price from the buses' prices (an aggregate's is its weighted average)."""
        return float(self.weights(name) @ bus_prices)


def _ptdf(case: dict[str, NDArray[np.float64]]) -> tuple[NDArray[np.float64], dict[int, int]]:
    bus, branch = case["bus"], case["branch"]
    index = {int(n): i for i, n in enumerate(bus[:, BUS_I])}
    live = branch[branch[:, BR_STATUS] > 0]
    nb, nl = len(bus), len(live)
    tap = np.where(live[:, TAP] == 0, 1.0, live[:, TAP])
    b = 1.0 / (live[:, BR_X] * tap)
    incidence = np.zeros((nl, nb))
    rows = np.arange(nl)
    incidence[rows, [index[int(f)] for f in live[:, F_BUS]]] = 1.0
    incidence[rows, [index[int(t)] for t in live[:, T_BUS]]] = -1.0
    bf = b[:, None] * incidence
    bbus = incidence.T @ bf
    slack = int(np.flatnonzero(bus[:, BUS_TYPE] == REF)[0])
    keep = [i for i in range(nb) if i != slack]
    ptdf = np.zeros((nl, nb))
    ptdf[:, keep] = np.linalg.solve(bbus[np.ix_(keep, keep)], bf[:, keep].T).T
    return ptdf, index


def _weights(nb: int, buses: list[int], amounts: list[float]) -> NDArray[np.float64]:
    """Weights over buses in proportion to ``amounts`` (equal when none is positive), summing to 1."""
    w = np.zeros(nb)
    for i, a in zip(buses, amounts, strict=True):
        w[i] += max(a, 0.0)
    if w.sum() <= 0:
        w[buses] = 1.0
    result: NDArray[np.float64] = w / w.sum()
    return result


@functools.cache
def load_grid() -> Grid:
    """The network, built once per process (~50 ms)."""
    from pypower.case300 import case300

    case = case300()
    bus, branch, gen = case["bus"], case["branch"], case["gen"]
    ptdf, index = _ptdf(case)
    nb = len(bus)
    zones = tuple(ZONES[int(z)] for z in bus[:, ZONE])
    injection = np.zeros(nb)
    for g in gen[gen[:, GEN_STATUS] > 0]:
        injection[index[int(g[GEN_BUS])]] += g[PG]
    injection -= bus[:, PD]
    base = ptdf @ injection
    live = branch[branch[:, BR_STATUS] > 0]
    seen: dict[tuple[int, int], int] = {}
    branches = []
    for row, flow in zip(live, base, strict=True):
        f, t = int(row[F_BUS]), int(row[T_BUS])
        seen[(f, t)] = seen.get((f, t), 0) + 1
        limit = max(MIN_LIMIT_MW, math.ceil(abs(flow) * HEADROOM / 10.0) * 10.0)
        branches.append(Branch(f"BR_{f}_{t}_{seen[(f, t)]}", f, t, limit, abs(float(row[BR_X]))))
    nodes: dict[str, NDArray[np.float64]] = {}
    for i, number in enumerate(bus[:, BUS_I]):
        nodes[f"PN_{int(number)}_N001"] = _weights(nb, [i], [1.0])
    gen_buses: dict[str, list[tuple[int, float]]] = {}
    for g in gen[gen[:, GEN_STATUS] > 0]:
        i = index[int(g[GEN_BUS])]
        gen_buses.setdefault(zones[i], []).append((i, float(g[PMAX])))
    loads: dict[str, list[tuple[int, float]]] = {}
    for i in range(nb):
        if bus[i, PD] > 0:
            loads.setdefault(zones[i], []).append((i, float(bus[i, PD])))
    for node in NODES:
        zone_gens = sorted(gen_buses.get(node.zone, []))
        zone_loads = sorted(loads.get(node.zone, []), key=lambda p: -p[1])
        if node.type == "GEN":
            ordinal = [n.name for n in NODES if n.type == "GEN" and n.zone == node.zone].index(node.name)
            i, _ = zone_gens[ordinal % len(zone_gens)]
            nodes[node.name] = _weights(nb, [i], [1.0])
        elif node.name.startswith("DLAP_"):
            nodes[node.name] = _weights(nb, [i for i, _ in zone_loads], [a for _, a in zone_loads])
        elif node.name.startswith("SLAP_"):
            half = zone_loads[: max(1, len(zone_loads) // 2)]
            nodes[node.name] = _weights(nb, [i for i, _ in half], [a for _, a in half])
    hubs = {
        "TH_NP15_GEN-APND": gen_buses["PGAE-30"],
        "TH_SP15_GEN-APND": gen_buses["SCE-31"] + gen_buses["SDGE-32"],
        "TH_ZP26_GEN-APND": sorted(gen_buses["PGAE-30"])[len(gen_buses["PGAE-30"]) // 2 :],
    }
    for name, members in hubs.items():
        nodes[name] = _weights(nb, [i for i, _ in members], [c for _, c in members])
    return Grid(tuple(int(n) for n in bus[:, BUS_I]), zones, tuple(branches), ptdf, nodes)
