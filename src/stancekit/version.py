"""The package's version, read from its installed metadata, so pyproject.toml is its one home."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

try:
    __version__ = metadata.version("stancekit")
except metadata.PackageNotFoundError:  # a source tree that was never installed (pip install -e .)
    __version__ = "0+unknown"


def source_commit() -> str | None:
    """The git commit of the source tree this package runs from (``-dirty`` when tracked files differ from it),
    or None outside a git checkout: what a run records so its numbers can be traced to the code that made them."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=root, capture_output=True).returncode == 1
    except OSError:  # no git on this machine
        return None
    commit = head.stdout.strip()
    return (commit + ("-dirty" if dirty else "")) if head.returncode == 0 and commit else None
