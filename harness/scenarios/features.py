"""Find feature files and read their scenarios' tags without running anything.

Used by the matrix (which scenarios cover which plan item), by marker registration (every tag
must be a registered marker under ``--strict-markers``) and by the ``--week``/``--day``
filters. Parsing goes through pytest-bdd's own parser so what we read is what it runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cucumber_tag_expressions as cucumber_tags
from pytest_bdd.exceptions import GherkinParseError
from pytest_bdd.parser import FeatureParser

from harness.scenarios.plan import DAYS

PLAN_TAG = "plan:"


@dataclass(frozen=True)
class ScenarioInfo:
    feature_file: Path
    feature_name: str
    name: str
    tags: frozenset[str]  # scenario + rule + feature tags, without "@"

    @property
    def plan_ids(self) -> tuple[str, ...]:
        return tuple(sorted(t[len(PLAN_TAG) :] for t in self.tags if t.startswith(PLAN_TAG)))

    @property
    def label(self) -> str:
        return f"{self.feature_file.name}: {self.name}"


def feature_files(dirs: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for d in dirs:
        d = Path(d)
        if d.is_file() and d.suffix == ".feature":
            out.append(d.resolve())
        elif d.is_dir():
            out.extend(sorted(p.resolve() for p in d.rglob("*.feature")))
    return out


class FeatureFileError(ValueError):
    """A feature file Gherkin cannot parse, as ``file:line: what Gherkin expected``."""


# gherkin's token names, as a feature file's author knows them
_TOKENS = {
    "EOF": "the end of the file",
    "FeatureLine": "'Feature:'",
    "BackgroundLine": "'Background:'",
    "ScenarioLine": "'Scenario:' or 'Scenario Outline:'",
    "ExamplesLine": "'Examples:'",
    "RuleLine": "'Rule:'",
    "StepLine": "a step (Given, When, Then, And, But)",
    "TagLine": "an @tag line",
    "TableRow": "a table row (| ... |)",
    "DocStringSeparator": 'a doc string (""")',
    "Comment": "a # comment",
    "Empty": "an empty line",
    "Language": "a '# language:' line",
    "Other": "free text",
}
_EXPECTED = re.compile(r"expected: (.*?), got '(.*)'")


def parse_feature(path: Path) -> Any:
    """pytest-bdd's parse of one feature file (what it runs); FeatureFileError when Gherkin
    refuses it, naming the file, the line and what Gherkin expected there (pytest-bdd's own
    error is an INTERNALERROR traceback that ends the whole run)."""
    try:
        return FeatureParser(str(path.parent), path.name).parse()
    except GherkinParseError as exc:
        found = _EXPECTED.search(str(exc.__cause__ or ""))
        if found:
            wanted = [
                _TOKENS.get(t.strip().lstrip("#"), t.strip().lstrip("#")) for t in found.group(1).split(",")
            ]
            said = (
                f"Gherkin expected {', '.join(wanted[:-1])} or {wanted[-1]}"
                if len(wanted) > 1
                else f"Gherkin expected {wanted[0]}"
            )
            raise FeatureFileError(f"{path}:{exc.line}: {said}, not {found.group(2)!r}") from None
        raise FeatureFileError(
            f"{path}:{exc.line}: {exc.message} (the line reads {exc.line_content.strip()!r})"
        ) from None


def check_feature_files(dirs: Iterable[Path]) -> None:
    """FeatureFileError for the first feature file of ``dirs`` Gherkin cannot parse."""
    for path in feature_files(dirs):
        parse_feature(path)


def read_scenarios(dirs: Iterable[Path]) -> Iterator[ScenarioInfo]:
    for path in feature_files(dirs):
        feature = parse_feature(path)
        for template in feature.scenarios.values():
            rule_tags = template.rule.tags if template.rule is not None else set()
            yield ScenarioInfo(
                path,
                feature.name or path.stem,
                template.name,
                frozenset(template.tags | feature.tags | rule_tags),
            )


def all_tags(dirs: Iterable[Path]) -> set[str]:
    return {tag for info in read_scenarios(dirs) for tag in info.tags}


class TagExpressionError(ValueError):
    """A ``--tags`` expression Cucumber's parser refuses; the message says where."""


def tag_filter(text: str) -> Callable[[Iterable[str]], bool]:
    """Cucumber's own tag expressions (cucumber-tag-expressions, the parser behave and
    cucumber-jvm use) over a scenario's tags.

    pytest's ``-m`` cannot express ``@plan:W1-TUE-NOMINATE-T1`` (a marker name holds no colon)
    and QA already writes Cucumber expressions. Scenario tags are read without their ``@`` and a
    user may write ``week1`` or ``@week1``: each tag is offered in both spellings.
    """
    try:
        expression = cucumber_tags.parse(text)
    except cucumber_tags.TagExpressionError as exc:
        raise TagExpressionError(f"cannot read the tag expression {text!r}: {exc}") from None
    return lambda tags: bool(expression.evaluate([form for t in tags for form in (t, "@" + t.lstrip("@"))]))


def week_of(tags: Iterable[str]) -> int | None:
    """``week1`` -> 1, ``week0``/``connectivity`` -> 0; None when the scenario names no week."""
    for tag in tags:
        if tag.startswith("week") and tag[4:].isdigit():
            return int(tag[4:])
    return 0 if "connectivity" in tags else None


def day_of(tags: Iterable[str]) -> str | None:
    return next((d for d in DAYS if d in set(tags)), None)


def plan_order(tags: Iterable[str]) -> tuple[int, int]:
    """Sort key that runs scenarios in calendar order (unknown week/day last)."""
    tags = set(tags)
    week, day = week_of(tags), day_of(tags)
    return (99 if week is None else week, len(DAYS) if day is None else DAYS.index(day))
