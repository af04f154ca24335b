"""The step library's decorators: pytest-bdd's own ``given``/``when``/``then``, each step also
kept in crrsim's list (``STEPS``) with its type, parser and function.

What crrsim asks of the library before a scenario runs (does one of its steps write? which
step is closest to a misspelt one? the ``--steps`` listing) reads this list, so nothing reads
pytest-bdd's private step registry. Step modules import these instead of pytest-bdd's:
``from harness.scenarios.steplib import given, parsers, then, when``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import pytest_bdd
from pytest_bdd import parsers
from pytest_bdd.parsers import StepParser

__all__ = ["STEPS", "StepDef", "given", "parsers", "then", "when"]

F = TypeVar("F", bound=Callable[..., Any])
StepType = Literal["given", "when", "then"]


@dataclass(frozen=True)
class StepDef:
    type: StepType
    parser: StepParser
    func: Callable[..., Any]


STEPS: list[StepDef] = []


def _decorator(kind: StepType) -> Callable[..., Callable[[F], F]]:
    register_with = {"given": pytest_bdd.given, "when": pytest_bdd.when, "then": pytest_bdd.then}[kind]

    def factory(
        name: str | StepParser,
        converters: dict[str, Callable[[str], object]] | None = None,
        target_fixture: str | None = None,
        stacklevel: int = 1,
    ) -> Callable[[F], F]:
        # one frame more than pytest-bdd expects: it injects the step's fixture into the module
        # that applies the decorator, which is the caller of ``register`` below
        decorate = register_with(name, converters, target_fixture, stacklevel + 1)

        def register(func: F) -> F:
            STEPS.append(StepDef(kind, parsers.get_parser(name), func))
            return decorate(func)  # type: ignore[return-value]

        return register

    return factory


given = _decorator("given")
when = _decorator("when")
then = _decorator("then")
