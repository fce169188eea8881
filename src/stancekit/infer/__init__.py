"""Inference: :class:`StanceClassifier` (length-sorted batching, truncation, devices, calibrated
probabilities, abstention), its precisions and its ONNX Runtime backends."""

from .classifier import Prediction, StanceClassifier
from .onnx import BACKENDS, OnnxExportError, OnnxStanceModel
from .precision import PRECISIONS, RECHECK_MARGIN

__all__ = [
    "BACKENDS",
    "PRECISIONS",
    "RECHECK_MARGIN",
    "OnnxExportError",
    "OnnxStanceModel",
    "Prediction",
    "StanceClassifier",
]
