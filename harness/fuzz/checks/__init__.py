"""CAISO-aware checks for schemathesis' engine, on its own check model.

``answers``: stateless checks, module-level ``@schemathesis.check`` functions that read one
answer. ``oracles``: checks that ask the target again, check classes schemathesis builds once
per engine run with the run's state (``state.FuzzRun``), and the two hooks every call passes.
``deviations``: where the contract itself cannot hold, written once per operation.

Importing this package registers them (schemathesis' registry is per process; a check does
nothing for a case outside a crrsim run). ``CHECK_NAMES`` is read off that registry, so a new
check is listed by being written: ``docs/adding-a-fuzz-check.md``.
"""

from __future__ import annotations

from schemathesis.checks import CHECKS

from harness.fuzz.checks import answers, oracles
from harness.fuzz.checks.answers import SHAPE_CODES, business_answer, crr_errors, errors_in
from harness.fuzz.checks.deviations import known_deviation
from harness.fuzz.checks.oracles import STATEFUL
from harness.fuzz.checks.state import ORACLE_CALLS_PER_OPERATION, BudgetSpent, FuzzRun, config_for

CHECK_NAMES = tuple(
    check.__name__ for check in CHECKS.get_all() if check.__module__ in (answers.__name__, oracles.__name__)
)

__all__ = [
    "CHECK_NAMES",
    "ORACLE_CALLS_PER_OPERATION",
    "SHAPE_CODES",
    "STATEFUL",
    "BudgetSpent",
    "FuzzRun",
    "business_answer",
    "config_for",
    "crr_errors",
    "errors_in",
    "known_deviation",
]
