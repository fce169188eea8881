"""The package's version, read from its installed metadata, so pyproject.toml is its one home."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("stancekit")
except metadata.PackageNotFoundError:  # a source tree that was never installed (pip install -e .)
    __version__ = "0+unknown"
