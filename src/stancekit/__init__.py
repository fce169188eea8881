"""stancekit: fine-tune, evaluate and use transformer models that label (evidence, claim) pairs as
support / contradict / neutral."""

from .inference import NotAStanceModelError, StanceClassifier
from .labels import ID2LABEL, LABEL2ID, LABELS

__all__ = ["ID2LABEL", "LABEL2ID", "LABELS", "NotAStanceModelError", "StanceClassifier"]
__version__ = "0.1.0"
