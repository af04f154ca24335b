"""Issue 9 item 12: contract YAML is read by the YAML 1.2 core schema, as OpenAPI tools read it."""

from __future__ import annotations

import math

import pytest

from harness.contract.yaml12 import load_yaml


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # numbers: YAML 1.2 floats need no dot; leading zeros are decimal; 0o / 0x prefixes
        ("1e9", 1e9),
        ("-2.5e-3", -0.0025),
        ("1.", 1.0),
        (".5", 0.5),
        ("+12", 12),
        ("017", 17),
        ("0o17", 15),
        ("0x1F", 31),
        ("10", 10),
        ("-0", 0),
        # booleans: only true/false spellings; null: ~, null and the empty value
        ("true", True),
        ("FALSE", False),
        ("~", None),
        ("null", None),
        ("", None),
    ],
)
def test_core_schema_scalars(text: str, value: object) -> None:
    loaded = load_yaml(f"v: {text}\n")["v"]
    assert loaded == value and type(loaded) is type(value)


@pytest.mark.parametrize(
    "text",
    [
        # YAML 1.1 readings that 1.2 does not have: yes/no/on/off booleans, 1_000, sexagesimal,
        # 0b binary, timestamps (JSON has no date type), and version-like strings
        "ON",
        "OFF",
        "Yes",
        "No",
        "y",
        "1_000",
        "60:30",
        "0b101",
        "2026-03-01",
        "2026-03-01T00:00:00Z",
        "1.2.3",
    ],
)
def test_yaml11_only_forms_stay_strings(text: str) -> None:
    assert load_yaml(f"v: {text}\n")["v"] == text


def test_special_floats() -> None:
    data = load_yaml("a: .inf\nb: -.INF\nc: .NaN\n")
    assert data["a"] == math.inf and data["b"] == -math.inf and math.isnan(data["c"])


def test_a_contract_limit_written_in_exponent_form_is_a_number() -> None:
    schema = load_yaml("type: number\nmaximum: 1e9\nminimum: -1E+3\nenum: [ON, OFF]\n")
    assert schema == {"type": "number", "maximum": 1e9, "minimum": -1000.0, "enum": ["ON", "OFF"]}
