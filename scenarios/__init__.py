"""The Market Sim step library: pytest-bdd steps for the CRR B2B APIs, one module per domain.

Load it with ``-p scenarios.plugin`` (``crrsim scenarios`` does) and any feature file can use
every step; ``crrsim scenarios --steps`` lists them with their docstrings.
"""
