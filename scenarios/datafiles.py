"""Participant-style upload files (``scenarios/data``) turned into request records.

Files are what participants keep: CSV rows of source, sink, TOU, MW (and price for bids).
Fields a file leaves out are filled from the scenario -- asset owner from the participant,
period from the market -- so the same file works for ECAL and SCAL, monthly and annual.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
DATA_ENV = "CRRSIM_SCENARIO_DATA"  # extra folders searched first (a team's own data files)


def find(name: str) -> Path:
    folders = [Path(p) for p in os.environ.get(DATA_ENV, "").split(os.pathsep) if p] + [DATA_DIR]
    for folder in folders:
        path = folder / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"data file {name!r} not found in {', '.join(str(f) for f in folders)}")


def rows(name: str) -> list[dict[str, str]]:
    """CSV rows as dicts (header names as written), blank cells dropped."""
    with find(name).open(newline="", encoding="utf-8") as fh:
        return [
            {k.strip(): v.strip() for k, v in row.items() if v and v.strip()} for row in csv.DictReader(fh)
        ]


def table_rows(datatable: list[list[str]]) -> list[dict[str, str]]:
    """A Gherkin data table (first row = header) in the same shape as ``rows``."""
    header, *body = datatable
    return [{h.strip(): v.strip() for h, v in zip(header, line, strict=True) if v.strip()} for line in body]


def number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def curves() -> dict[str, list[dict[str, Any]]]:
    """Named bid curves from ``curves.yaml``: ``[[mw, price], ...]`` -> bidCurve points."""
    data = yaml.safe_load(find("curves.yaml").read_text(encoding="utf-8"))
    return {name: [{"mw": mw, "price": price} for mw, price in points] for name, points in data.items()}
