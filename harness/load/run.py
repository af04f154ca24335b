"""One load run, whole: locust, the integrity read-back, the clean-up, the report, as events.

``crrsim load`` and the main job's load part both call :func:`run`; neither re-does a step of
it. What it emits: the run started (its seconds), live figures from locust every half second,
then the report with the SLO verdicts, the integrity check and the clean-up in it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from harness.client.targets import describe_target
from harness.config.participants import Participant
from harness.events import Emit, Figures, RunFinished, Runner, RunStarted, ignore
from harness.load import cleanup
from harness.load.integrity import add_to_report, check_integrity
from harness.load.profiles import load_profile
from harness.load.runner import LoadOutcome, run_load
from harness.load.settings import LoadSettings


def run(
    settings: LoadSettings,
    url: str,
    run_dir: Path,
    participants: list[Participant],
    secrets: dict[str, str] | None = None,
    *,
    read_back_ca: Path | None = None,
    emit: Emit = ignore,
) -> LoadOutcome:
    """Load ``url`` as ``participants``. ``read_back_ca``: the CA to read every acknowledged write
    back with (the dev PKI's, when the participants are the sandbox's dev identities); without it
    the integrity check says it was not run. A shared environment is cleaned up after."""
    secrets = secrets or {}
    clock = time.monotonic()
    duration = (
        load_profile(settings.profile)
        .scaled(settings.users, settings.spawn_rate, settings.arrival_rate, settings.run_time)
        .duration
    )
    emit(RunStarted(runner=Runner.LOAD, title="load", target=url, total=duration, unit="s"))

    def tick(elapsed: float, total: float, figures: str = "") -> None:
        emit(Figures(completed=round(min(elapsed, total), 1), text=figures))

    outcome = run_load(settings, url, run_dir, participants, secrets, progress=tick)
    if read_back_ca is not None:
        outcome.integrity = check_integrity(outcome.recording.writes, participants, url, read_back_ca)
    add_to_report(outcome, checked=read_back_ca is not None)
    if settings.target_kind == "shared":  # a shared environment keeps nothing the run can remove
        passwords = {
            p.sc: secrets.get(p.password_variable) or os.environ.get(p.password_variable, "")
            for p in participants
        }
        lines = cleanup.clean_up(
            outcome.recording.writes, participants, url, settings.cfg.ca_path(), passwords, settings.cfg.specs
        )
        cleanup.add_to_report(outcome.report, lines, cleanup.kept(outcome.recording))
    outcome.report.tested = describe_target(settings.cfg.target, settings.target_kind)
    emit(RunFinished(report=outcome.report, seconds=time.monotonic() - clock))
    return outcome
