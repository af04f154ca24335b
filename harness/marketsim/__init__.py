"""The main job: a whole Market Sim rehearsal in one command.

It stands up the embedded sandbox (or uses a real environment), certifies each participant's
connectivity with the probe, runs the structured Market Sim plan as Gherkin scenarios, and
merges everything into one ``RunReport`` for the shared JSON/JUnit/HTML handlers.
"""

from harness.marketsim.job import MarketSimOutcome, MarketSimSettings, run_marketsim

__all__ = ["MarketSimOutcome", "MarketSimSettings", "run_marketsim"]
