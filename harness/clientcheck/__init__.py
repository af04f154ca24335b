"""``crrsim client-check``: certify a participant's own B2B client, not just its certificate.

The judging sandbox (``harness.sandbox.web.judging``) watches the client and misbehaves on the
script's schedule; ``rules`` judges what it saw; ``run`` is the whole check as events.
"""

from harness.clientcheck.run import CheckError, CheckOutcome, CheckSettings, Rehearsal, run

__all__ = ["CheckError", "CheckOutcome", "CheckSettings", "Rehearsal", "run"]
