"""The sandbox's one JSON codec: orjson where it can, the standard library where it must.

Why orjson: a maximum-size portfolio (500 bids x 20 points, ~0.37 MB) costs ~9 ms to parse and
~16 ms to encode with ``json``, against ~4 ms and ~1.4 ms with orjson; at the benchmark's rates
that is most of a core. Why the fallbacks: orjson refuses integers beyond 64 bits, which
``json`` (and so the contract's ``type: integer``) accepts; decoding falls back to ``json`` so
such a body is validated like any other instead of being called "not JSON", and encoding falls
back for anything orjson cannot represent. Both directions keep ``json``'s refusal of
``NaN``/``Infinity`` on input.
"""

from __future__ import annotations

import gc
import json
import re
from typing import Any

import orjson

from harness.contract.wire import first_huge_number

# datetimes and dataclasses go through ``default`` like they do with ``json`` (str(), not RFC 3339)
_BIG = 64 * 1024  # bytes of JSON from which pausing the garbage collector pays
_SORTED = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


MAX_DEPTH = 64
"""Deepest nesting of arrays and objects a request body may have. CRR bodies need 6 (a
portfolio's bid curve points); the contract lets extra keys hold anything, and the validator
cannot follow values nested ~250 deep, so deeper bodies are refused up front (SER0017)."""


def _too_deep(raw: bytes) -> bool:
    """Whether parsed-valid JSON ``raw`` nests deeper than MAX_DEPTH (a body with at most
    MAX_DEPTH brackets cannot: two ``bytes.count``)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False
    return nesting(raw) > MAX_DEPTH


def nesting(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep parsed-valid JSON ``raw`` nests arrays and objects (0 for a scalar), counted up
    to ``limit + 1`` (anything deeper says ``limit + 1``).

    All in C: the brackets outside strings are kept (``_brackets``) and innermost ``[]``/``{}``
    pairs peeled off one level per pass, at most ``limit + 1`` passes (a 340 KB portfolio:
    ~0.5 ms; its 100 KB folded skeleton: ~0.15 ms).
    """
    shape = _brackets(raw)
    depth = 0
    while shape and depth <= limit:
        shape = _INNERMOST.sub(b"", shape)
        depth += 1
    return limit + 1 if shape else depth


def _brackets(raw: bytes) -> bytes:
    """The brackets of JSON ``raw`` that are outside its strings, in order.

    Without escapes every string is a pair of quotes, so keeping only quotes and brackets and
    deleting adjacent quote pairs in one left-to-right pass leaves exactly the structural
    brackets -- unless a string holds a bracket, whose quotes are then left over (by induction
    over the strings: the pass pairs quote 2k with 2k+1 until a string's quotes are not
    adjacent, and that string's opening quote is never removed). Then, and for a body with
    escapes, strings are cut out with a regex.
    """
    if b"\\" not in raw:
        shape = raw.translate(None, _NOT_SHAPE).replace(b'""', b"")
        if b'"' not in shape:
            return shape
    return _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)


_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_NOT_SHAPE = bytes(range(256)).translate(None, b'[]{}"')
_INNERMOST = re.compile(rb"\[\]|\{\}")


# a digit run past 15 digits, or an exponent: the only spellings of a number beyond MAX_MAGNITUDE;
# found by bytes.find on the body with every digit mapped to "0", "E" to "e" and anything else
# to a space (a regex over the digits of a 370 KB portfolio took 11 ms; this takes 0.7). A digit
# before an "e" is an exponent (a negative one is a false alarm, which costs a walk)
_SHAPES = bytes(ord("0") if 48 <= b <= 57 else ord("e") if b in b"eE" else ord(" ") for b in range(256))
_HUGE_SHAPES = (b"0" * 16, b"0e")


class NumberOutOfRange(ValueError):
    """A body holding a number beyond MAX_MAGNITUDE; ``where`` is its path (``a.b[2].c``)."""

    def __init__(self, where: str, value: int | float) -> None:
        self.where = where
        if isinstance(value, float):
            shown = (
                "a number too large for a double" if value in (float("inf"), float("-inf")) else f"{value:g}"
            )
        elif value.bit_length() > 64:
            shown = f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
        else:
            shown = str(value)
        super().__init__(f"{shown} is beyond ±10^15, the largest magnitude the CRR system takes")


def spells_huge_number(raw: bytes) -> bool:
    """Whether ``raw`` may hold a number beyond MAX_MAGNITUDE (a cheap test with false alarms:
    a long digit run inside a string counts too)."""
    shape = raw.translate(_SHAPES)
    return any(s in shape for s in _HUGE_SHAPES)


def check_numbers(raw: bytes, value: Any) -> None:
    """Refuse (NumberOutOfRange) a parsed body holding a number beyond MAX_MAGNITUDE. The scan
    of the raw bytes (C, ~0.7 ms for a 370 KB portfolio) finds nothing in an ordinary body, so
    the walk over the parsed value only runs when a long number or an exponent is spelt."""
    if spells_huge_number(raw):
        refuse_huge_numbers(value)


def refuse_huge_numbers(value: Any) -> None:
    """NumberOutOfRange for the first number of ``value`` beyond MAX_MAGNITUDE (a walk over the
    parsed value: only for a body ``spells_huge_number`` flagged)."""
    found = first_huge_number(value)
    if found is not None:
        raise NumberOutOfRange(found[0] or "body", found[1])


def parse(data: bytes | str) -> Any:
    """orjson's parse and nothing else (orjson.JSONDecodeError for what it refuses), with the
    garbage collector paused for a big body (see ``loads``); for a caller that checks the
    limits itself (``within_limits``)."""
    if len(data) < _BIG or not gc.isenabled():
        return orjson.loads(data)
    gc.disable()
    try:
        return orjson.loads(data)
    finally:
        gc.enable()


def loads(raw: bytes | str, numbers: bool = True) -> Any:
    """Parse JSON text; ValueError (or UnicodeDecodeError) for anything that is not JSON, or
    that is JSON the sandbox will not take: nesting deeper than MAX_DEPTH, a lone UTF-16
    surrogate escape (``"\\ud800"``), which no UTF-8 store or response can hold, or (unless
    ``numbers`` is False: a caller that checks the original bytes itself) a number beyond
    MAX_MAGNITUDE.

    A big body is parsed with the cyclic garbage collector paused: parsing a portfolio creates
    ~30,000 containers, which would run ~40 young-generation collections over objects that all
    survive and can hold no cycle (a third of the parse time).
    """
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    try:
        value = parse(data)
    except orjson.JSONDecodeError as exc:
        value = _stdlib_loads(data, exc)
    if _too_deep(data):  # only valid JSON gets here, so the bracket shape is balanced
        raise ValueError(f"the JSON nests deeper than {MAX_DEPTH} levels")
    if numbers:
        check_numbers(data, value)
    return value


def _stdlib_loads(data: bytes, refused: orjson.JSONDecodeError) -> Any:
    """The rare body orjson refuses but JSON allows (integers beyond 64 bits); garbage, lone
    surrogates and nesting past the interpreter's limits are still refused."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(_not_utf8(data, exc)) from None
    if "surrogate" in str(refused):
        raise ValueError(_SURROGATE) from None
    try:
        value = json.loads(data, parse_constant=_no_constants)
    except RecursionError:
        raise ValueError(f"the JSON nests deeper than {MAX_DEPTH} levels") from None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(_SURROGATE) from None
    except RecursionError:
        raise ValueError(f"the JSON nests deeper than {MAX_DEPTH} levels") from None
    return value


def _not_utf8(data: bytes, exc: UnicodeDecodeError) -> str:
    """Say what the bytes are, so a client's author knows what to change: compressed bytes
    sent without their Content-Encoding, or text in another encoding."""
    if data[:2] == b"\x1f\x8b":
        return "the body is gzip-compressed bytes; send it with 'Content-Encoding: gzip', or uncompressed"
    return (
        f"the body is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} is not valid "
        "UTF-8 (JSON must be sent as UTF-8)"
    )


_SURROGATE = "a string holds a lone UTF-16 surrogate escape, which is not text"


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON bytes (what responses carry)."""
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def dumps_text(value: Any) -> str:
    """Compact JSON text, e.g. for a TEXT column."""
    return dumps(value).decode()


def dumps_sorted(value: Any) -> str:
    """Compact JSON text with sorted keys (stable comparisons); unknown types become ``str``."""
    try:
        return orjson.dumps(value, default=str, option=_SORTED).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
