"""Read contract YAML the way OpenAPI tools do (YAML 1.2), not the way PyYAML does (YAML 1.1).

CAISO's files write enums as bare ``ON``/``OFF`` and ``Yes``/``No``. PyYAML's default
resolver turns those into booleans, which would make the time-of-use enum ``[True, False]``
and break every validator built on it. Schemathesis, Prism and Swagger read them as
strings; so do we. Timestamps stay strings too, because JSON has no date type.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

try:  # the C loader is ~10x faster on the 1,000-line files
    from yaml import CSafeLoader as _Base
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeLoader as _Base  # type: ignore[assignment]


class Yaml12Loader(_Base):  # type: ignore[misc,valid-type]
    """SafeLoader with YAML 1.2 booleans and no implicit timestamps."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(text: str) -> Any:
    """Parse one YAML document with YAML 1.2 scalar rules."""
    return yaml.load(text, Loader=Yaml12Loader)  # noqa: S506 - a SafeLoader subclass
