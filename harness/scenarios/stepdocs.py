"""``crrsim scenarios --steps``: every step of the library, its pattern and its docstring.

Read from the step library's own list (``steplib.STEPS``, filled by its decorators as the step
modules are imported), so the listing is what the runner matches against -- it cannot drift
from the code.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from dataclasses import dataclass

from harness.scenarios.plan import step_library_root


@dataclass(frozen=True)
class StepDoc:
    module: str
    types: tuple[str, ...]  # given / when / then
    pattern: str
    doc: str
    line: int


def collect_steps() -> list[StepDoc]:
    root = str(step_library_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    plugin = importlib.import_module("scenarios.plugin")
    for name in plugin.STEP_MODULES:
        importlib.import_module(name)
    from harness.scenarios.steplib import STEPS

    grouped: dict[tuple[str, str], list[str]] = {}
    funcs = {}
    for known in STEPS:
        fn = known.func
        if not fn.__module__.startswith("scenarios.steps."):
            continue
        key = (fn.__module__, known.parser.name)
        grouped.setdefault(key, []).append(known.type)
        funcs[key] = fn
    out = []
    for (module, pattern), types in grouped.items():
        fn = funcs[(module, pattern)]
        out.append(
            StepDoc(
                module.rsplit(".", 1)[-1],
                tuple(sorted(set(types))),
                pattern,
                inspect.getdoc(fn) or "",
                inspect.getsourcelines(fn)[1],
            )
        )
    return sorted(out, key=lambda s: (s.module, s.line))


_WORDS = re.compile(r"[A-Za-z0-9 _'-]+(\|[A-Za-z0-9 _'-]+)+")
_LITERAL = re.compile(r"[A-Za-z0-9 _'-]+")


def as_written(pattern: str) -> str:
    """A step's pattern as a feature file's author writes the step: ``{name}`` for a value,
    ``{day: Monday|Tuesday}`` for a named choice, ``[ ... ]`` for an optional part, ``(a | b)``
    for alternatives, ``hold(s)`` for an optional letter; parse-style patterns pass through.
    A step author reading a raw regex (``(?P<day>Monday|...) (?P<hhmm>\\d\\d:\\d\\d)``) was the
    complaint."""
    text, _ = _sequence(pattern, 0)
    return text


def _group_end(pattern: str, start: int) -> int:
    """Index of the ``)`` closing the group opened at ``start``."""
    depth, i = 0, start
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = pattern.index("]", i + 2)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(pattern) - 1


def _sequence(pattern: str, i: int, stop: int | None = None) -> tuple[str, int]:
    out: list[str] = []
    end = len(pattern) if stop is None else stop
    while i < end:
        ch = pattern[i]
        if ch == "\\" and i + 1 < end:
            out.append(pattern[i + 1])
            i += 2
        elif ch == "(":
            close = _group_end(pattern, i)
            optional = close + 1 < len(pattern) and pattern[close + 1] == "?"
            out.append(_group(pattern, i, close, optional))
            i = close + (2 if optional else 1)
        elif ch == "?" and out and len(out[-1]) >= 1 and out[-1][-1:].isalpha():
            last = out.pop()
            out.append(f"{last[:-1]}({last[-1]})")
            i += 1
        elif ch == "|":
            out.append(" | ")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out), i


def _group(pattern: str, start: int, close: int, optional: bool) -> str:
    body = pattern[start + 1 : close]
    if body.startswith("?P<"):
        name, inner = body[3:].split(">", 1)
        if _LITERAL.fullmatch(inner):  # (?P<neg>not )? is the words "not ", optional
            shown = inner
        else:
            shown = f"{{{name}: {inner}}}" if _WORDS.fullmatch(inner) else f"{{{name}}}"
        return f"[{shown}]" if optional else shown
    inner_start = start + 3 if body.startswith("?:") else start + 1
    inner, _ = _sequence(pattern, inner_start, close)
    if optional:
        return f"[{inner}]"
    return f"({inner})" if " | " in inner else inner


def format_steps(steps: list[StepDoc]) -> str:
    lines: list[str] = []
    module = None
    for step in steps:
        if step.module != module:
            module = step.module
            lines.append(f"\n== {module} ==")
        lines.append(f"[{'/'.join(step.types)}] {as_written(step.pattern)}")
        for doc_line in step.doc.splitlines() or ["(no docstring)"]:
            lines.append(f"      {doc_line}")
    lines.append(f"\n{len(steps)} steps")
    return "\n".join(lines).lstrip("\n")
