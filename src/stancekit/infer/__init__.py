"""Inference: :class:`StanceClassifier` (length-sorted batching, truncation, devices, calibrated
probabilities, abstention), its precisions and its converted backends (ONNX Runtime, OpenVINO)."""

from .backends import BACKENDS, BackendStanceModel
from .classifier import Prediction, StanceClassifier
from .onnx import OnnxExportError, OnnxStanceModel
from .openvino import OpenVinoExportError, OpenVinoStanceModel, quantize_openvino
from .precision import PRECISIONS, RECHECK_MARGIN

__all__ = [
    "BACKENDS",
    "PRECISIONS",
    "RECHECK_MARGIN",
    "BackendStanceModel",
    "OnnxExportError",
    "OnnxStanceModel",
    "OpenVinoExportError",
    "OpenVinoStanceModel",
    "Prediction",
    "StanceClassifier",
    "quantize_openvino",
]
