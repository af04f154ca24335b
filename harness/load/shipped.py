"""The profile and SLO files crrsim ships, found from a source checkout and from a pip install.

The README's examples name them as ``load/slo/default.yaml`` and ``load/profiles/...``, paths of
a source checkout; after ``pip install`` those paths do not exist in the user's folder. Such a
path still means the shipped file, and any other missing file gets a sentence saying where the
shipped ones live and how to copy one to edit it.
"""

from __future__ import annotations

from pathlib import Path


def shipped_file(path: Path, folder: Path, kind: str, error: type[Exception]) -> Path:
    """``path`` itself when it exists; the shipped file when ``path`` names one the way the
    README does (``load/slo/default.yaml``); otherwise ``error`` naming ``folder``."""
    if path.is_file():
        return path
    shipped = folder / path.name
    if path.parent.parts[-2:] == folder.parts[-2:] and shipped.is_file():
        return shipped
    names = sorted(p.name for p in folder.glob("*.yaml"))
    example = names[0] if names else "default.yaml"
    raise error(
        f"{path}: no such file. The {kind} files crrsim ships are in {folder} ({', '.join(names)}); "
        f"to edit one, copy it: cp {folder / example} my-{kind}.yaml"
    )
