"""stancekit: fine-tune, evaluate and use transformer models that label (evidence, claim) pairs as
support / contradict / neutral.

``from stancekit import StanceClassifier`` is the entry point for using a trained model; the module map in
the README says which subpackage does what.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .labels import ID2LABEL, LABEL2ID, LABELS, Pair
from .version import __version__

if TYPE_CHECKING:
    from .infer.classifier import StanceClassifier
    from .models.folder import NotAStanceModelError

__all__ = ["ID2LABEL", "LABEL2ID", "LABELS", "NotAStanceModelError", "Pair", "StanceClassifier", "__version__"]

# Loaded on first use: `import stancekit.labels` (or the benchmarks' memory baselines) should not pay for
# torch and transformers.
_LAZY = {"StanceClassifier": "stancekit.infer.classifier", "NotAStanceModelError": "stancekit.models.folder"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'stancekit' has no attribute {name!r}")
