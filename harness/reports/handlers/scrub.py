"""Last line of defence against secrets in reports.

Runners must not put key material or passwords into a RunReport in the first place; this
removes PEM private-key blocks (and any explicitly named secrets) from whatever text a
handler is about to write, in case something slipped through (a response body, a traceback).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_PEM_KEY = re.compile(r"-{5}BEGIN ([A-Z0-9 ]*)PRIVATE KEY-{5}.*?(?:-{5}END \1PRIVATE KEY-{5}|\Z)", re.DOTALL)
REMOVED = "[private key removed]"


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    text = _PEM_KEY.sub(REMOVED, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[secret removed]")
    return text


def scrub_tree(value: Any, secrets: Iterable[str] = ()) -> Any:
    """``scrub`` every string inside nested dicts/lists (for the JSON writer)."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: scrub_tree(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_tree(v, secrets) for v in value]
    return value
