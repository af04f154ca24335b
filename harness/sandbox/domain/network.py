"""The sandbox's network model: a small, fixed set of CAISO-style source/sink nodes.

Real names (DLAP/SLAP/trading hubs) so participants' saved bids work unchanged; the rest are
plausible generator pnodes. Only nodes with ``biddable`` may appear in a bid's source/sink.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    name: str
    type: str  # LAP | TH (trading hub) | GEN
    zone: str
    biddable: bool = True
    augmented_bus: str = ""
    ems_bus: str = ""
    participation_factor: float = 1.0


def _gen(name: str, zone: str, n: int, biddable: bool = True) -> Node:
    return Node(name, "GEN", zone, biddable, f"BusbarSection_{3400 + n}_N1", f"{n}-BUS-{60 + n}", 1.0)


NODES: tuple[Node, ...] = (
    Node("DLAP_PGAE-APND", "LAP", "PGAE-30", True, "BusbarSection_3408_N1", "1-BUS-60", 0.003),
    Node("DLAP_SCE-APND", "LAP", "SCE-31", True, "BusbarSection_3412_N1", "2-BUS-61", 0.004),
    Node("DLAP_SDGE-APND", "LAP", "SDGE-32", True, "BusbarSection_3420_N1", "3-BUS-62", 0.002),
    Node("DLAP_VEA-APND", "LAP", "VEA-33", True, "BusbarSection_3425_N1", "4-BUS-63", 0.001),
    Node("SLAP_PGST-APND", "LAP", "PGAE-30", True, "BusbarSection_3430_N1", "5-BUS-64", 0.005),
    Node("SLAP_PGF1-APND", "LAP", "PGAE-30", True, "BusbarSection_3431_N1", "6-BUS-65", 0.002),
    Node("SLAP_SCEC-APND", "LAP", "SCE-31", True, "BusbarSection_3433_N1", "7-BUS-66", 0.003),
    Node("SLAP_SDG1-APND", "LAP", "SDGE-32", True, "BusbarSection_3435_N1", "8-BUS-67", 0.002),
    Node("TH_NP15_GEN-APND", "TH", "NP15", True, "", "", 1.0),
    Node("TH_SP15_GEN-APND", "TH", "SP15", True, "", "", 1.0),
    Node("TH_ZP26_GEN-APND", "TH", "ZP26", True, "", "", 1.0),
    _gen("DIABLO_7_N001", "PGAE-30", 41),
    _gen("MOSSLD_2_PSP1", "PGAE-30", 42),
    _gen("COTTLE_2_FRNKNH", "PGAE-30", 43),
    _gen("ALAMIT_7_B1", "SCE-31", 44),
    _gen("MANDLY_1_N005", "SCE-31", 45),
    _gen("SONGS_2_N101", "SCE-31", 46, biddable=False),
    _gen("ENCINA_7_B1", "SDGE-32", 47),
    _gen("OTAY_6_UNIT", "SDGE-32", 48),
    _gen("MALIN_5_N101", "PGAE-30", 49),
    _gen("PALOVRDE_ASR-APND", "SCE-31", 50),
)

_BY_NAME = {n.name: n for n in NODES}


def is_node(name: str) -> bool:
    return name in _BY_NAME


def node(name: str) -> Node | None:
    return _BY_NAME.get(name)


def biddable(name: str) -> bool:
    n = _BY_NAME.get(name)
    return bool(n and n.biddable)
