"""Shared bits of the three scripts: locating configs, project root, and printing results."""

from __future__ import annotations

import os
from pathlib import Path

# The repository root: scripts/ and configs/ live here. Set as an env var so configs can interpolate it
# (``${oc.env:STANCEKIT_PROJECT_ROOT}``) and relative paths work from any working directory.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = str(PROJECT_ROOT / "configs")


def set_project_root() -> None:
    os.environ.setdefault("STANCEKIT_PROJECT_ROOT", str(PROJECT_ROOT))


def metrics_table(metrics: dict) -> str:
    """A short fixed-width table of accuracy and macro-F1, one row per test set."""
    blocks = {metrics.get("name", "test"): metrics} if "accuracy" in metrics else metrics
    # Only the per-set blocks (a capability-suite result sits beside them).
    blocks = {name: b for name, b in blocks.items() if isinstance(b, dict) and "accuracy" in b}
    width = max([len(n) for n in blocks] + [8])
    lines = [f"{'set':<{width}}  {'n':>6}  {'accuracy':>8}  {'macro-F1':>8}"]
    for name, b in blocks.items():
        lines.append(f"{name:<{width}}  {b.get('n', ''):>6}  {b['accuracy']:>8.4f}  {b['macro_f1']:>8.4f}")
    caps = metrics.get("capabilities")
    if caps:
        lines.append("")
        lines += [f"capability {name:<22} pass rate {cap['pass_rate']:.3f}" for name, cap in caps.items()]
    return "\n".join(lines)
