"""``crrsim scenarios --steps``: every step of the library, its pattern and its docstring.

Read from pytest-bdd's own registry after importing the step modules, so the listing is what
the runner matches against -- it cannot drift from the code.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass

from harness.scenarios.runner import step_library_root


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
    from pytest_bdd.steps import step_function_context_registry

    grouped: dict[tuple[str, str], list[str]] = {}
    funcs = {}
    for context in list(step_function_context_registry.values()):
        fn = context.step_func
        if not fn.__module__.startswith("scenarios.steps."):
            continue
        key = (fn.__module__, context.parser.name)
        grouped.setdefault(key, []).append(context.type or "step")
        funcs[key] = fn
    out = []
    for (module, pattern), types in grouped.items():
        fn = funcs[(module, pattern)]
        out.append(StepDoc(module.rsplit(".", 1)[-1], tuple(sorted(set(types))), pattern,
                           inspect.getdoc(fn) or "", inspect.getsourcelines(fn)[1]))
    return sorted(out, key=lambda s: (s.module, s.line))


def format_steps(steps: list[StepDoc]) -> str:
    lines: list[str] = []
    module = None
    for step in steps:
        if step.module != module:
            module = step.module
            lines.append(f"\n== {module} ==")
        lines.append(f"[{'/'.join(step.types)}] {step.pattern}")
        for doc_line in step.doc.splitlines() or ["(no docstring)"]:
            lines.append(f"      {doc_line}")
    lines.append(f"\n{len(steps)} steps")
    return "\n".join(lines).lstrip("\n")
