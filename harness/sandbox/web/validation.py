"""Request validation compiled once per contract operation.

Each operation gets an ``OperationValidator`` at start-up (jsonschema-rs validators for its
parameters and body), so a request costs a few dictionary look-ups and native validator calls.
jsonschema-rs checks ``multipleOf`` exactly (a 3-decimal MW value is never rejected by
floating-point noise, unlike Prism). OpenAPI 3.0 schemas are Draft-4 flavoured (boolean
``exclusiveMinimum``) with ``nullable``, so they are converted and checked as Draft 4.

Why bodies take a fast path: jsonschema-rs's exact ``multipleOf`` costs ~4 us a number, i.e.
~40 ms of a 500 x 20 portfolio's ~45 ms validation. A body is first checked by a validator
compiled without the decimal-grid ``multipleOf`` keywords (``0.001``, ``0.01``...) plus an
exact Python check of those numbers (``_grid_checker``); only a body that fails either goes
through the full validator, which then produces the errors. The fast check is never more
lenient than the full one (anything it doubts goes the slow way), so answers are unchanged.

Big bodies go one step further (``SharedArrays``): a portfolio's bids repeat a few curves, so
each distinct curve text is parsed and validated once and the bids share the parsed list; the
rest of the body is validated with the curves folded away. Again anything unexpected takes the
ordinary path (``test_folded_validation_matches_the_full_validator`` checks the accepted set
against jsonschema-rs on random bodies).
"""

from __future__ import annotations

import copy
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

import jsonschema_rs
import orjson

from harness.contract import Operation, Parameter
from harness.contract.wire import MAX_MAGNITUDE, REQUEST_ID_FORM, REQUEST_ID_HEADER
from harness.sandbox.errors import CRRError
from harness.sandbox.jsoncodec import (
    MAX_DEPTH,
    NumberOutOfRange,
    dumps_text,
    loads,
    nesting,
    parse,
    refuse_huge_numbers,
    spells_huge_number,
)
from harness.sandbox.timefmt import is_date_time

PORTFOLIO_FIELDS = ("portfolioName",)
# query parameters whose invalid value has a code of its own (when the service's contract lists it),
# matched on the end of the lower-cased parameter name
PARAM_CODES = (("downloadtype", "DWL0001"), ("fileformat", "DWL0002"), ("statustype", "SER0014"))


def openapi_to_jsonschema(schema: Any, closed: bool = False) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema Draft 4 (``nullable``); ``closed`` forbids unlisted properties."""
    if isinstance(schema, list):
        return [openapi_to_jsonschema(s, closed) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: openapi_to_jsonschema(v, closed) if k not in ("enum", "example", "examples") else v
        for k, v in schema.items()
        if k not in ("example", "examples", "nullable", "discriminator", "xml")
    }
    if "properties" in schema:
        out["properties"] = {k: openapi_to_jsonschema(v, closed) for k, v in schema["properties"].items()}
        if closed and "additionalProperties" not in schema:
            out["additionalProperties"] = False
            # a name the schema requires is a name it allows, even when ``properties`` spells it
            # differently (CAISO's TorConversionWindow requires ``conversionApprovalWindow`` but
            # lists ``ConversionApprovalWindow``): closing must not make the schema unsatisfiable
            required = schema.get("required")
            for name in required if isinstance(required, list) else ():
                if isinstance(name, str) and name not in out["properties"]:
                    out["properties"][name] = {}
    if schema.get("nullable") is True and "type" in out:
        out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def _validator(schema: dict[str, Any]) -> jsonschema_rs.Draft4Validator:
    """Every validator the sandbox compiles: formats checked, and ``date-time`` means a
    date-time the CRR system can hold (RFC 3339 whose UTC instant falls in years 1-9999:
    ``0000-01-01T00:00:00Z`` is valid RFC 3339 but no Java or Python date holds it)."""
    if "date-time" not in dumps_text(schema):  # a custom format costs every validation ~25% (jsonschema-rs)
        return jsonschema_rs.Draft4Validator(schema, validate_formats=True)
    return jsonschema_rs.Draft4Validator(schema, validate_formats=True, formats={"date-time": is_date_time})


def compile_schema(schema: dict[str, Any], closed: bool = False) -> jsonschema_rs.Draft4Validator:
    return _validator(openapi_to_jsonschema(copy.deepcopy(schema), closed))


def _path(parts: Any) -> str:
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text or "body"


DATE_TIME_RULE = (
    "date-time the CRR system takes (RFC 3339 with Z or an offset, years 0001-9999 in UTC, "
    "e.g. 2026-03-01T08:00:00Z)"
)


def _reason_first(message: str, value: Any) -> str:
    """jsonschema-rs starts a message with the offending value (``[{...21 points...}] has more
    than 20 items``); a long value pushes the reason past the cut at 300 characters, and a client
    that shows only the description (the public Java client does) tells its user nothing. Long
    values go after the reason."""
    if not isinstance(value, (list, dict)):
        return message
    shown = dumps_text(value)
    if len(shown) <= 60 or not message.startswith(shown):
        return message
    return f"{message[len(shown) :].strip()} (the value: {_short(shown, 160)})"


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


Check = Callable[[Any], bool]
_GRID_LIMIT = 1e9  # beyond this a float's shortest decimal form may not be the grid value: slow path
_ROUNDER = 1.5 * 2.0**52  # adding and subtracting it rounds a double to an integer (ties to even)


def _grid_scale(multiple: Any) -> int | None:
    """10**k when ``multiple`` is 10**-k (k = 1..9), else None (left to jsonschema-rs)."""
    if isinstance(multiple, bool) or not isinstance(multiple, int | float):
        return None
    for k in range(1, 10):
        if multiple == float(f"1e-{k}"):
            return 10**k
    return None


def _grid_checker(schema: Any) -> tuple[Any, Check | None]:
    """(schema without decimal-grid ``multipleOf``, exact check of those numbers or None).

    Only ``properties`` and single-schema ``items`` are followed: there the location of every
    checked number is unambiguous; ``multipleOf`` anywhere else stays in the schema. The check
    is generated as one straight Python function (nested loops, no calls per number): it runs
    over every point of a 10,000-point portfolio, where per-value closures cost ~9 ms.
    A float is on the 10**-k grid iff it is the double nearest to n / 10**k for the nearest
    integer n; n and 10**k are exact doubles, so IEEE division yields that double: the test
    ``round(x * s) / s == x`` is exact (cross-checked against jsonschema-rs in the tests); the
    rounding is done with float arithmetic, which is exact below the limit used.
    """
    lines: list[str] = []
    counter = iter(range(1_000_000))

    def walk(node: Any, var: str, depth: int) -> Any:
        if not isinstance(node, dict):
            return node
        out = dict(node)
        pad = "    " * depth
        body: list[str] = []
        scale = _grid_scale(node.get("multipleOf"))
        if scale is not None:
            del out["multipleOf"]
            # (x * s + R) - R rounds to the nearest integer in float arithmetic while |x * s| < 2**51
            limit = min(_GRID_LIMIT, 2.0**50 / scale)
            body.append(
                f"{pad}if type({var}) is float and not (-{limit!r} < {var} < {limit!r}"
                f" and (({var} * {scale} + {_ROUNDER!r}) - {_ROUNDER!r}) / {scale} == {var}):"
                f"\n{pad}    return False"
            )
        props = node.get("properties")
        if isinstance(props, dict):
            inner: list[str] = []
            new_props = {}
            for name, sub in props.items():
                child = f"v{next(counter)}"
                mark = len(lines)
                new_props[name] = walk(sub, child, depth + 1)
                if len(lines) > mark:
                    inner += [f"{pad}    {child} = {var}.get({name!r})", *lines[mark:]]
                    del lines[mark:]
            out["properties"] = new_props
            if inner:
                body += [f"{pad}if type({var}) is dict:", *inner]
        items = node.get("items")
        if isinstance(items, dict):
            child = f"v{next(counter)}"
            mark = len(lines)
            out["items"] = walk(items, child, depth + 2)
            if len(lines) > mark:
                sub = lines[mark:]
                del lines[mark:]
                body += [f"{pad}if type({var}) is list:", f"{pad}    for {child} in {var}:", *sub]
        lines.extend(body)
        return out

    stripped = walk(schema, "value", 1)
    if not lines:
        return schema, None
    source = "def check(value):\n" + "\n".join(lines) + "\n    return True\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<grid-check>", "exec"), namespace)  # our own generated code, no input text
    return stripped, namespace["check"]


_SCALARS = ("string", "number", "integer", "boolean", "null")
_SHARED_MIN = 16 * 1024  # bytes of body from which folding repeated arrays pays
_CAPITALS = bytes(65 + b % 26 for b in range(256))  # a random byte -> a capital letter


def _flat_array(schema: Any) -> bool:
    """An array of objects whose properties are all scalars: its JSON text holds no ``]`` but its own."""
    if not isinstance(schema, dict) or schema.get("type") != "array":
        return False
    items = schema.get("items")
    if not isinstance(items, dict) or items.get("type") != "object" or "additionalProperties" in items:
        return False
    props = items.get("properties")
    return isinstance(props, dict) and all(
        isinstance(p, dict) and p.get("type") in _SCALARS for p in props.values()
    )


@dataclass
class SharedArrays:
    """Repeated arrays (bid curves) validated once per distinct text instead of once per record.

    A 500-bid portfolio usually repeats a few curves; parsing and validating 10,000 points was
    most of an upload's CPU. ``key`` names an array property (``bidCurve``) of the items of the
    top-level arrays ``parents``. Each ``"key": [...]`` in the raw text is replaced by a
    placeholder string (a per-request random token that does not occur in the body; the key
    must be written exactly ``"key":[``, i.e. without spaces, else the body is not folded), the
    rest is parsed and validated with ``key`` typed as a string, each distinct array text is
    parsed and validated once, and the parsed arrays are put back (shared by the records that
    repeat them). Anything unexpected -- a match that is not a JSON array, a placeholder left
    anywhere but at ``parents[*].key`` -- returns None and the body takes the ordinary path, so
    the accepted set is exactly the full validator's.
    """

    key: str
    parents: tuple[str, ...]
    marker: bytes  # b'"bidCurve":'
    validator: jsonschema_rs.Draft4Validator  # one array, decimal-grid multipleOf removed
    grid: Check | None  # the exact grid check of one array
    shape: ListedShape | None = None  # when the folded body's names bound its depth and numbers

    def fold(self, raw: bytes) -> tuple[Any, list[Any], dict[str, int], int] | None:
        """(body with placeholders, distinct arrays, placeholder -> array index, placeholders)
        or None; nothing validated yet.

        A placeholder is a string, ``~`` + 12 random capital letters (a per-request token) +
        ``-`` + the array's index; a body holding the token or a ``\\u`` escape (which could
        spell it) anywhere is not folded, so no string of the body can be a placeholder. The
        codec's limits (nesting, numbers beyond MAX_MAGNITUDE) are checked on each distinct
        array's text and on the folded text, a third of the bytes -- or, when the folded body
        uses only the schema's names for scalars (``ListedShape``), by the folded validation
        itself: a body over them is not folded, and the ordinary path refuses it with its
        reason.
        """
        token = b"~" + secrets.token_bytes(12).translate(_CAPITALS) + b"-"
        if token in raw or (b"\\" in raw and b"\\u" in raw):  # one memchr in the usual case
            return None
        cut = self._cut(raw, token)
        if cut is None:
            return None
        folded, arrays_text, count = cut
        if any(spells_huge_number(text) for text in arrays_text):
            return None
        deepest = max(nesting(text) for text in arrays_text)
        try:
            body = parse(folded)
            arrays = [parse(text) for text in arrays_text]
        except orjson.JSONDecodeError:
            return None
        if type(body) is not dict:
            return None
        if self.shape is not None and self.shape.holds(body):
            # top level > parent array > record > its curve: 3 + the curve's depth; numbers
            # only where the folded schema bounds them
            if 3 + deepest > MAX_DEPTH:
                return None
        elif spells_huge_number(folded) or nesting(folded, MAX_DEPTH - deepest) > MAX_DEPTH - deepest:
            return None
        prefix = token.decode()
        return body, arrays, {f"{prefix}{i}": i for i in range(len(arrays))}, count

    def _cut(self, raw: bytes, token: bytes) -> tuple[bytes, list[bytes], int] | None:
        """(the text with each array replaced by its placeholder, each distinct array's text,
        how many were replaced) or None when a key is not followed by an array.

        One split at every key and a partition of each piece at its array's end (an array
        runs to its first ``]``: it holds none), all in C, no Python step per record (a regex
        split, or a loop over the pieces, cost about three times as much; a ``bytes.replace``
        of one distinct curve alone costs five times as much). When every piece starts with
        the first piece's array (one curve for the whole portfolio), the pieces are simply
        joined by its placeholder.
        """
        marker = self.marker
        pieces = raw.split(marker)
        count = len(pieces) - 1
        arrays_on = pieces[1:]
        if not count:
            return None
        first = arrays_on[0][: arrays_on[0].find(b"]") + 1]
        if first[:1] == b"[" and first[-1:] == b"]" and all(map(bytes.startswith, arrays_on, repeat(first))):
            # every record bids the same curve: the pieces' rests joined by its placeholder
            after = map(itemgetter(slice(len(first), None)), arrays_on)
            return (b'%s"%s0"' % (marker, token)).join((pieces[0], *after)), [first], count
        if not all(map(bytes.startswith, arrays_on, repeat(b"["))):
            return None
        heads, ends, rests = zip(*map(bytes.partition, arrays_on, repeat(b"]")), strict=True)
        if b"" in ends:
            return None
        texts = dict.fromkeys(heads)  # each distinct array's text, without its "]"
        numbered = {text: b'%s"%s%d"' % (marker, token, i) for i, text in enumerate(texts)}
        folded = pieces[0] + b"".join(
            chain.from_iterable(zip(map(numbered.__getitem__, heads), rests, strict=True))
        )
        return folded, [text + b"]" for text in texts], count

    def check(self, arrays: list[Any]) -> bool:
        grid = self.grid
        return all(self.validator.is_valid(a) and (grid is None or grid(a)) for a in arrays)

    def unfold(self, body: dict[str, Any], arrays: list[Any], places: dict[str, int], count: int) -> bool:
        """Put the arrays back; False (the body is then of no use) unless every placeholder
        stood at ``parents[*].key``, where the folded validation checked them as arrays."""
        key = self.key
        by_place = {place: arrays[i] for place, i in places.items()}
        for parent in self.parents:
            items = body.get(parent)
            if type(items) is not list:
                continue
            if set(map(type, items)) <= {dict}:  # the usual case, in C: no Python step per record
                values: list[Any] = list(map(dict.get, items, repeat(key)))
                if set(map(type, values)) <= {str} and all(map(by_place.__contains__, values)):
                    deque(map(dict.__setitem__, items, repeat(key), map(by_place.__getitem__, values)), 0)
                    count -= len(values)
                    continue
            for item in items:
                if type(item) is dict:
                    value = item.get(key)
                    if type(value) is str and value in by_place:
                        item[key] = by_place[value]
                        count -= 1
        return count == 0


def _sans_prose(schema: Any) -> Any:
    """A schema without its descriptions: what decides whether two schemas accept the same values."""
    if isinstance(schema, dict):
        return {k: _sans_prose(v) for k, v in schema.items() if k != "description"}
    if isinstance(schema, list):
        return [_sans_prose(v) for v in schema]
    return schema


def _compares_values(schema: Any) -> bool:
    """True if a keyword could compare whole records (``uniqueItems``, ``enum``/``const`` on an
    object or array, ``not``/``oneOf``...): two equal curves written differently fold into
    different placeholders, so such a schema must see the real arrays."""
    if isinstance(schema, list):
        return any(_compares_values(s) for s in schema)
    if not isinstance(schema, dict):
        return False
    if schema.get("uniqueItems") or any(
        k in schema for k in ("not", "oneOf", "anyOf", "allOf", "dependencies")
    ):
        return True
    if ("enum" in schema or "const" in schema) and schema.get("type") in ("object", "array", None):
        return True
    return any(_compares_values(v) for k, v in schema.items() if k not in ("enum", "const"))


def _shared_arrays(schema: Any) -> tuple[Any, SharedArrays | None]:
    """(schema with the repeated array typed as a placeholder string, its SharedArrays) or (schema, None)."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return schema, None
    key: str | None = None
    parents: list[str] = []
    array_schema: Any = None
    for name, sub in props.items():
        items = sub.get("items") if isinstance(sub, dict) and sub.get("type") == "array" else None
        inner = items.get("properties") if isinstance(items, dict) else None
        if not isinstance(inner, dict):
            continue
        for child, child_schema in inner.items():
            if _flat_array(child_schema) and (
                key is None or (key == child and _sans_prose(child_schema) == _sans_prose(array_schema))
            ):
                key, array_schema = child, child_schema
                parents.append(name)
    if key is None or array_schema is None or _compares_values(schema):
        return schema, None
    out = copy.deepcopy(schema)
    for parent in parents:
        out["properties"][parent]["items"]["properties"][key] = {"type": "string"}
    stripped, grid = _grid_checker(copy.deepcopy(array_schema))
    shared = SharedArrays(
        key,
        tuple(parents),
        b'"' + key.encode() + b'":',
        _validator(stripped),
        grid,
        _listed_shape(out, parents),
    )
    return out, shared


_SCALAR_TYPES = frozenset(("string", "number", "integer", "boolean", "null"))


def _scalar(schema: Any) -> bool:
    """Whether ``schema`` only accepts scalars (its ``type`` says so)."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    kinds = [kind] if isinstance(kind, str) else kind
    return isinstance(kinds, list) and bool(kinds) and set(kinds) <= _SCALAR_TYPES


def _bounded(schema: dict[str, Any]) -> dict[str, Any]:
    """A scalar schema that also refuses numbers beyond MAX_MAGNITUDE (the codec's limit)."""
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if not {"number", "integer"} & set(kinds):
        return schema
    return {"allOf": [schema, {"maximum": MAX_MAGNITUDE, "minimum": -MAX_MAGNITUDE}]}


def _listed_shape(folded: dict[str, Any], parents: list[str]) -> ListedShape | None:
    """The names a folded body may use for the fold to skip its byte scans, bounding the
    numbers of the folded schema (in place) -- or None when some property could hold a
    container (then the scans always run)."""
    props = folded["properties"]
    top = frozenset(props)
    if not all(_scalar(sub) for name, sub in props.items() if name not in parents):
        return None
    items: dict[str, frozenset[str]] = {}
    for parent in parents:
        inner = props[parent]["items"]["properties"]
        if not all(_scalar(sub) for sub in inner.values()):
            return None
        items[parent] = frozenset(inner)
    for name in top - set(parents):
        props[name] = _bounded(props[name])
    for parent in parents:
        inner = props[parent]["items"]["properties"]
        for name in list(inner):
            inner[name] = _bounded(inner[name])
    return ListedShape(top, items)


@dataclass(frozen=True)
class ListedShape:
    """A folded body's property names (top level, and the items of each parent array) when
    each holds a scalar: a body that uses no other name and passes the folded validation
    nests three deep plus its curves, and holds numbers only where the folded schema bounds
    them, so the depth and number scans of its text can be skipped."""

    top: frozenset[str]
    items: dict[str, frozenset[str]]

    def holds(self, body: dict[str, Any]) -> bool:
        """Whether ``body`` uses only the listed names (its validation then says the rest)."""
        if not body.keys() <= self.top:
            return False
        try:
            for parent, names in self.items.items():
                records = body.get(parent)
                if records is not None and not (
                    type(records) is list and all(map(names.issuperset, records))
                ):
                    return False
        except TypeError:  # a record that is not an object: the validation refuses it
            return False
        return True


@dataclass
class ParamCheck:
    param: Parameter
    validator: jsonschema_rs.Draft4Validator
    kind: str | None  # the JSON type to coerce a string to

    def coerce(self, raw: str) -> Any:
        if self.kind == "integer":
            return int(raw)
        if self.kind == "number":
            value = float(raw)
            return int(value) if value.is_integer() and "." not in raw and "e" not in raw.lower() else value
        if self.kind == "boolean":
            if raw.lower() in ("true", "false"):
                return raw.lower() == "true"
            raise ValueError("not a boolean")
        return raw


class OperationValidator:
    """Validates one operation's header/query parameters and JSON body."""

    def __init__(self, operation: Operation, error_codes: tuple[str, ...] = ()) -> None:
        self.operation = operation
        self.error_codes = frozenset(error_codes)
        self.uses_ser0022 = "SER0022" in error_codes
        self.checks: list[ParamCheck] = []
        for p in operation.parameters:
            if p.location not in ("query", "header") or p.name.lower() == REQUEST_ID_HEADER:
                continue
            kind = p.schema.get("type") if isinstance(p.schema.get("type"), str) else None
            self.checks.append(ParamCheck(p, compile_schema(p.schema), kind))
        self.body_validator = compile_schema(operation.request_schema) if operation.request_schema else None
        self.fast_body_validator: jsonschema_rs.Draft4Validator | None = None
        self.grid_check: Check | None = None
        self.shared: SharedArrays | None = None
        self.folded_validator: jsonschema_rs.Draft4Validator | None = None
        self.folded_grid: Check | None = None
        if operation.request_schema:
            converted = openapi_to_jsonschema(copy.deepcopy(operation.request_schema))
            fast_schema, self.grid_check = _grid_checker(converted)
            if self.grid_check is not None:
                self.fast_body_validator = _validator(fast_schema)
            folded_schema, self.shared = _shared_arrays(converted)
            if self.shared is not None:
                folded_fast, self.folded_grid = _grid_checker(folded_schema)
                self.folded_validator = _validator(folded_fast)
        # CAISO's files leave ``required`` off most request bodies, yet no operation that
        # declares one can do anything without it: a missing body is a 400, never a crash.
        self.body_required = True

    def _field_error(self, name: str, message: str, value: Any = None, schema: Any = None) -> CRRError:
        """The contract's code for one invalid field (SER0030 unless a more specific one applies).

        A portfolio name that is blank is POR0215 and one over its ``maxLength`` POR0103 (what the
        handlers give for the same names); any other bad name (characters) is SER0022.
        """
        field = name.split(".")[-1]
        message = _reason_first(message, value)
        if message.endswith('is not a "date-time"'):
            message = message[: -len('"date-time"')] + DATE_TIME_RULE
        if self.uses_ser0022 and field in PORTFOLIO_FIELDS:
            if isinstance(value, str) and not value.strip() and "POR0215" in self.error_codes:
                return CRRError("POR0215", detail=f"{name}: the portfolio name is blank")
            limit = schema.get("maxLength") if isinstance(schema, dict) else None
            if (
                isinstance(value, str)
                and isinstance(limit, int)
                and len(value) > limit
                and ("POR0103" in self.error_codes)
            ):
                return CRRError("POR0103", value[:limit] + "...")
            return CRRError("SER0022", name, detail=f"{name}: {_short(message)}")
        lowered = field.lower()
        for suffix, code in PARAM_CODES:
            if lowered.endswith(suffix) and code in self.error_codes:
                shown = _short(str(value), 80)
                return CRRError(
                    code, shown, detail=f"{name}: {shown!r} is not a valid value; {_short(message)}"
                )
        return CRRError("SER0030", f"{name}: {_short(message)}")

    def _body_error(self, error: Any) -> CRRError:
        parts = list(error.instance_path)
        name = _path(parts)
        schema: Any = None
        if parts and parts[-1] in PORTFOLIO_FIELDS and len(parts) == 1:
            props = (self.operation.request_schema or {}).get("properties") or {}
            schema = props.get(parts[-1])
        return self._field_error(name, error.message, error.instance, schema)

    def params(self, query: Any, headers: Any) -> tuple[dict[str, Any], list[CRRError]]:
        values: dict[str, Any] = {}
        errors: list[CRRError] = []
        for check in self.checks:
            p = check.param
            raw = (query if p.location == "query" else headers).get(p.name)
            if raw is None:
                if p.required:
                    errors.append(
                        CRRError("SER0030", f"Required {p.location} parameter {p.name} is missing.")
                    )
                continue
            try:
                value = check.coerce(raw)
            except ValueError:
                errors.append(
                    CRRError(
                        "SER0030", f"Parameter {p.name} must be a {check.kind}, got {_short(raw, 80)!r}."
                    )
                )
                continue
            errs = [f"{e.message}" for e in check.validator.iter_errors(value)]
            if errs:
                errors.append(self._field_error(p.name, "; ".join(errs), value, p.schema))
            else:
                values[p.name] = value
        return values, errors

    def body(self, raw: bytes) -> tuple[Any, list[CRRError]]:
        if self.body_validator is None:
            return None, []
        if not raw.strip():
            return None, [
                CRRError("SER0017", "a JSON request body is required")
            ] if self.body_required else []
        shared = self.shared
        if shared is not None and len(raw) >= _SHARED_MIN and self.folded_validator is not None:
            folded = shared.fold(raw)
            if folded is not None:
                body, arrays, places, count = folded
                grid = self.folded_grid
                if (
                    self.folded_validator.is_valid(body)
                    and (grid is None or grid(body))
                    and shared.check(arrays)
                    and shared.unfold(body, arrays, places, count)
                ):
                    return body, []
        huge = spells_huge_number(raw)  # once per body: the ordinary path names the number
        try:
            body = loads(raw, numbers=False)
            if huge:
                refuse_huge_numbers(body)
        except NumberOutOfRange as exc:
            return None, [CRRError("SER0030", detail=f"{exc.where}: {exc}")]
        except (UnicodeDecodeError, ValueError) as exc:
            said = str(exc)  # the codec's own sentences about the bytes stand alone
            return None, [
                CRRError(
                    "SER0017",
                    said
                    if said.startswith("the body ")
                    else f"the body is not valid JSON ({_short(said, 120)})",
                )
            ]
        fast, grid = self.fast_body_validator, self.grid_check
        if fast is None:
            if self.body_validator.is_valid(body):
                return body, []
        elif grid is not None and fast.is_valid(body) and grid(body):
            return body, []
        errors: list[CRRError] = []
        named: set[str] = set()  # one error per portfolio name, however many of its rules it breaks
        found: list[Any] = list(self.body_validator.iter_errors(_cut_arrays(body)))
        if not found:  # a rule only the cut-off items broke: the first error of the whole body
            try:  # validate() stops at the first error; iter_errors would build them all again
                self.body_validator.validate(body)
            except jsonschema_rs.ValidationError as first:
                found = [first]
        for e in found:
            error = self._body_error(e)
            if error.code in ("POR0215", "POR0103", "SER0022"):
                where = _path(e.instance_path)
                if where in named:
                    continue
                named.add(where)
            errors.append(error)
        return body, errors


ARRAY_CHECKED = 1000
"""Items of one array validated when listing a body's errors: more than any ``maxItems`` of the
contract (20), so every array rule still fires. jsonschema-rs builds every error before the
first is seen (~12 us each): a 200,000-item array of wrong items took 3 s per request, and a
busy machine's client timed out waiting."""


def _cut_arrays(value: Any) -> Any:
    """``value`` with every array cut to ARRAY_CHECKED items (the same object when none is longer)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is list:
            if len(item) > ARRAY_CHECKED:
                break
            stack.extend(item)
        elif type(item) is dict:
            stack.extend(item.values())
    else:
        return value
    return _cut(value)


def _cut(value: Any) -> Any:
    if type(value) is list:
        return [_cut(v) for v in value[:ARRAY_CHECKED]]
    if type(value) is dict:
        return {k: _cut(v) for k, v in value.items()}
    return value


def check_request_id(value: str | None) -> str:
    """The caiso-request-id header, which CAISO requires on every call and must be a UUID."""
    if value is None:
        raise CRRError(
            "SER0017", "the caiso-request-id header is missing; send a fresh UUID with every request"
        )
    if not REQUEST_ID_FORM.fullmatch(value):
        raise CRRError("SER0017", f"the caiso-request-id header must be a UUID, got {_short(value, 60)!r}")
    return value


class ResponseChecker:
    """Test-mode check that a 200 body has exactly the contract's properties (strict Jackson clients)."""

    def __init__(self, operation: Operation) -> None:
        schema = operation.responses.get("200")
        self.validator = compile_schema(schema, closed=True) if schema else None

    def problems(self, body: Any) -> list[str]:
        if self.validator is None:
            return []
        return [f"{_path(e.instance_path)}: {_short(e.message)}" for e in self.validator.iter_errors(body)]
