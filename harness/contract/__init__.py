"""The service catalogue: the one place that knows which CRR services and operations exist.

Everything else (sandbox routes, probe targets, fuzzing, load) asks the catalogue rather
than hard-coding paths, so a new contract version changes behaviour without code changes.
"""

from harness.contract.catalogue import (
    Catalogue,
    ContractError,
    Operation,
    Parameter,
    Service,
    default_specs_dir,
    load_catalogue,
)
from harness.contract.naming import SERVICE_NAMES, SpecVersion

__all__ = [
    "Catalogue",
    "ContractError",
    "Operation",
    "Parameter",
    "SERVICE_NAMES",
    "Service",
    "SpecVersion",
    "default_specs_dir",
    "load_catalogue",
]
