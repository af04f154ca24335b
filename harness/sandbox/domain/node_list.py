"""A market's source/sink list as CAISO releases it: versions, retired PNodes re-mapped, islanded
nodes.

CAISO's deck (CRR upgrade, "Source and Sink list release"): the list is released as v0, v1 and
further updates within the active market period; a retired PNode is re-mapped to the closest
electrically connected PNode that is biddable and has the same source/sink designation, and the
mapping is published for the market period (CRRs already held baseload at the replacement); a
node islanded by an outage is biddable only for sell offers of a CRR that baseloads it, and for
nothing else.

Here: v0 is the network's node list (``domain.network``) as the market opens. Each release (the
operator's ``crrsim sandbox nodes MARKET --retire N --island N --restore N``) is the next version
and holds its changes; the market's list is v0 with every release applied in order. "Closest
electrically" is the smallest sum of branch reactances between the nodes' main buses on the
network model (``Grid.closest``); "the same designation" is the same node type (GEN, LAP, TH).

Plain values in and out: ``NodeList`` answers what a bid may name; no request objects.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from harness.sandbox.domain import network
from harness.sandbox.domain.grid import load_grid
from harness.sandbox.errors import CRRError
from harness.sandbox.timefmt import iso

RETIRED, ISLANDED, RESTORED = "RETIRED", "ISLANDED", "RESTORED"
# a PNode CAISO had retired before any market here (published since the sandbox began)
STANDING_REPLACEMENTS = (("SONGS_2_N101", "ALAMIT_7_B1", "2026-01-01T08:00:00Z"),)


@dataclass(frozen=True)
class Change:
    version: int
    node: str
    change: str  # RETIRED | ISLANDED | RESTORED
    replacement: str | None
    released_at: str
    effective: str  # when the mapping takes effect: the market's first period's start


@dataclass(frozen=True)
class NodeList:
    """One market's source/sink list at its latest version."""

    market: str
    version: int = 0
    released_at: str | None = None
    retired: dict[str, str] = field(default_factory=dict)  # node -> replacement
    islanded: frozenset[str] = frozenset()

    @property
    def nodes(self) -> list[network.Node]:
        """The list's nodes (a retired one is no longer in it), each as it is now."""
        return [
            network.Node(
                n.name,
                n.type,
                n.zone,
                n.biddable and n.name not in self.islanded,
                n.augmented_bus,
                n.ems_bus,
                n.participation_factor,
            )
            for n in network.NODES
            if n.name not in self.retired
        ]

    def mapped(self, name: str) -> str:
        """Where a CRR at ``name`` loads the network: its replacement's replacement ..., or itself."""
        seen = {name}
        while name in self.retired:
            name = self.retired[name]
            if name in seen:
                break
            seen.add(name)
        return name

    def problem(self, role: str, name: str, side: str) -> str | None:
        """Why a record of ``side`` (BUY, SELL, NOMINATION) may not name ``name``, or None."""
        if not network.is_node(name):
            return f"{role} {name!r} is not a node of the network model"
        where = f"source/sink list v{self.version} of {self.market}"
        if name in self.retired:
            return f"{role} {name} was retired in the {where}; it is re-mapped to {self.retired[name]}"
        if name in self.islanded and side != "SELL":
            return (
                f"{role} {name} is islanded by an outage in the {where}: only sell offers of CRRs that "
                "baseload it are accepted"
            )
        if not network.biddable(name):
            return f"{role} {name} is not biddable in this market"
        return None


def changes(conn: sqlite3.Connection, market: str | None = None) -> list[Change]:
    sql = "SELECT * FROM node_list_changes" + (" WHERE market = ?" if market else "")
    rows = conn.execute(sql + " ORDER BY market, version, node", (market,) if market else ())
    return [
        Change(r["version"], r["node"], r["change"], r["replacement"], r["released_at"], r["effective"])
        for r in rows
    ]


def current(conn: sqlite3.Connection, market: str) -> NodeList:
    """The market's list: v0 with every release applied in order."""
    return _apply(market, changes(conn, market))


def _apply(market: str, found: Iterable[Change]) -> NodeList:
    retired: dict[str, str] = {}
    islanded: set[str] = set()
    version, released = 0, None
    for c in found:
        version, released = c.version, c.released_at
        if c.change == RETIRED and c.replacement:
            retired[c.node] = c.replacement
            islanded.discard(c.node)
        elif c.change == ISLANDED:
            islanded.add(c.node)
        elif c.change == RESTORED:
            islanded.discard(c.node)
    return NodeList(market, version, released, retired, frozenset(islanded))


def replacement_for(nodes: NodeList, name: str, islanded: Iterable[str] = ()) -> str | None:
    """The closest electrically connected biddable node of the same type, or None."""
    kind = network.node(name)
    if kind is None:
        return None
    out = set(islanded) | set(nodes.islanded)
    candidates = [
        n.name
        for n in network.NODES
        if n.type == kind.type and n.biddable and n.name not in nodes.retired and n.name not in out
    ]
    return load_grid().closest(name, candidates)


def release(
    conn: sqlite3.Connection,
    market: str,
    now: datetime,
    effective: datetime,
    retire: Sequence[str] = (),
    island: Sequence[str] = (),
    restore: Sequence[str] = (),
) -> tuple[NodeList, list[Change]]:
    """Release the market's next version with these changes (SER0030 for one that cannot be)."""
    before = current(conn, market)
    for name in (*retire, *island, *restore):
        if not network.is_node(name):
            raise CRRError("SER0030", f"{name} is not a node of the network model.")
        if name in before.retired:
            raise CRRError("SER0030", f"{name} was already retired in v{before.version} of {market}.")
    for name in restore:
        if name not in before.islanded:
            raise CRRError(
                "SER0030", f"{name} is not islanded in v{before.version} of {market}; nothing to restore."
            )
    if not (retire or island or restore):
        raise CRRError("SER0030", "A release needs at least one change: retire, island or restore a node.")
    version = before.version + 1
    made: list[Change] = []
    state = before
    for name in retire:
        target = replacement_for(state, name, island)
        if target is None:
            raise CRRError(
                "SER0030", f"No connected biddable node of the same type as {name} is left to re-map it to."
            )
        made.append(Change(version, name, RETIRED, target, iso(now), iso(effective)))
        state = _apply(market, [*changes(conn, market), *made])
    made += [Change(version, n, ISLANDED, None, iso(now), iso(effective)) for n in island]
    made += [Change(version, n, RESTORED, None, iso(now), iso(effective)) for n in restore]
    conn.executemany(
        "INSERT INTO node_list_changes(market, version, node, change, replacement, released_at, effective)"
        " VALUES (?,?,?,?,?,?,?)",
        [(market, c.version, c.node, c.change, c.replacement, c.released_at, c.effective) for c in made],
    )
    return current(conn, market), made


def replacements(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """Every published mapping (retired, replacement, effective date), standing ones first."""
    found = [(c.node, c.replacement or "", c.effective) for c in changes(conn) if c.change == RETIRED]
    return [*STANDING_REPLACEMENTS, *sorted(set(found), key=lambda r: (r[2], r[0]))]


def describe(nodes: NodeList, made: Sequence[Change]) -> str:
    """The market notice a release comes with (a notice allows letters, digits, spaces and
    # @ ( ) . _ - only)."""
    said = []
    for c in made:
        if c.change == RETIRED:
            said.append(f"{c.node} retired (re-mapped to {c.replacement}).")
        elif c.change == ISLANDED:
            said.append(f"{c.node} islanded by an outage (sell offers of CRRs held at it only).")
        else:
            said.append(f"{c.node} restored.")
    return f"Source and sink list v{nodes.version} of {nodes.market} released. " + " ".join(said)
