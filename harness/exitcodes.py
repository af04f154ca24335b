"""One exit-code table for every ``crrsim`` command.

Scripts and CI jobs branch on these, so they mean the same thing everywhere: a check that ran
and found a problem (1) must never look like a run that could not happen at all (3), and a
typo in a flag (2) must never look like either.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # the check ran and everything passed (certified, clean, all scenarios passed)
    PROBLEM = 1  # the check ran and found a problem (not certified, failures, differences)
    USAGE = 2  # usage or configuration error: bad flag, missing file, bad settings
    CANNOT_RUN = 3  # could not run: report not writable, port in use, target unreachable for the runner
    NOTHING_SELECTED = 4  # a selection (week, day, tags, features) matched nothing; nothing was run
    SLO_BREACHED = 5  # crrsim load ran and a service level objective was not met (k6's thresholds exit 99)
    INCOMPLETE = (
        6  # the check ran and found nothing, but did not cover all it was asked (the report says what)
    )


MEANING: dict[ExitCode, str] = {
    ExitCode.OK: "the check ran and passed",
    ExitCode.PROBLEM: "the check ran and found a problem (the report says what)",
    ExitCode.USAGE: "usage or configuration error (a flag, a file or a setting)",
    ExitCode.CANNOT_RUN: "could not run (report not writable, port in use, target unreachable)",
    ExitCode.NOTHING_SELECTED: "the selection matched nothing, so nothing ran",
    ExitCode.SLO_BREACHED: "the load test ran and an SLO was breached (the report names each)",
    ExitCode.INCOMPLETE: "the check ran and found no failure, but did not cover everything it was asked "
    "(the report names what, and the flag that covers it)",
}

# pytest's own exit codes -> ours (pytest.ExitCode: 0 OK, 1 TESTS_FAILED, 2 INTERRUPTED,
# 3 INTERNAL_ERROR, 4 USAGE_ERROR, 5 NO_TESTS_COLLECTED)
_FROM_PYTEST = {
    0: ExitCode.OK,
    1: ExitCode.PROBLEM,
    2: ExitCode.CANNOT_RUN,
    3: ExitCode.CANNOT_RUN,
    4: ExitCode.USAGE,
    5: ExitCode.NOTHING_SELECTED,
}


def from_pytest(code: int) -> ExitCode:
    return _FROM_PYTEST.get(int(code), ExitCode.CANNOT_RUN)
