"""crrsim: a Market Sim test harness and connectivity checker for the CAISO CRR B2B APIs."""

__version__ = "0.1.0"
