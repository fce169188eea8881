"""The package's version and the source commit a run records."""

from __future__ import annotations

import subprocess

import pytest

from stancekit.config import PROJECT_ROOT
from stancekit.version import __version__, source_commit


def test_version_is_the_installed_metadata():
    assert __version__ and __version__ != "0+unknown"


@pytest.mark.skipif(not (PROJECT_ROOT / ".git").exists(), reason="not a git checkout")
def test_source_commit_is_the_checkout_head_and_says_when_tracked_files_differ():
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=PROJECT_ROOT).returncode == 1
    assert source_commit() == head.stdout.strip() + ("-dirty" if dirty else "")
