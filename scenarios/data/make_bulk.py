"""Write the bulk upload files (500 and 501 records) deterministically.

Run ``python scenarios/data/make_bulk.py`` after changing it; tests check that the committed
files equal what this script writes. 500 is CAISO's per-upload record limit, so the 500-record
files must be accepted and the 501-record ones refused.
"""

from __future__ import annotations

import csv
import io
from itertools import cycle, islice
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = (
    "TH_NP15_GEN-APND",
    "TH_SP15_GEN-APND",
    "TH_ZP26_GEN-APND",
    "DIABLO_7_N001",
    "MOSSLD_2_PSP1",
    "ALAMIT_7_B1",
    "ENCINA_7_B1",
    "MALIN_5_N101",
)
SINKS = ("DLAP_PGAE-APND", "DLAP_SCE-APND", "DLAP_SDGE-APND", "SLAP_PGST-APND", "SLAP_SCEC-APND")
TOUS = ("ON", "OFF")


def paths(n: int) -> list[tuple[str, str, str]]:
    combos = [(s, k, t) for s in SOURCES for k in SINKS for t in TOUS]
    return list(islice(cycle(combos), n))


def nominations(n: int) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["source", "sink", "tou", "mw"])
    for i, (source, sink, tou) in enumerate(paths(n)):
        w.writerow([source, sink, tou, f"{0.1 + (i % 7) * 0.05:.3f}"])
    return out.getvalue()


def bids(n: int) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["source", "sink", "tou", "mw", "price"])
    for i, (source, sink, tou) in enumerate(paths(n)):
        w.writerow([source, sink, tou, f"{1 + (i % 5) * 0.5:.3f}", f"{0.25 + (i % 9) * 0.1:.2f}"])
    return out.getvalue()


FILES = {
    "nominations_500.csv": lambda: nominations(500),
    "nominations_501.csv": lambda: nominations(501),
    "auction_bids_500.csv": lambda: bids(500),
    "auction_bids_501.csv": lambda: bids(501),
}


def main() -> None:
    for name, make in FILES.items():
        (HERE / name).write_text(make(), encoding="utf-8")


if __name__ == "__main__":
    main()
