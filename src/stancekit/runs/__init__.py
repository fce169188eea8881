"""The library side of the scripts: each ``scripts/X.py`` is a Hydra app calling one function here, so tests
call the same functions the command line does."""

from .baseline import evaluate_baseline
from .calibrate import calibrate_model
from .common import Report, check_mode
from .evaluate import evaluate_documents, evaluate_model
from .predict import predict_documents_file, predict_file
from .serve import build_app, serve
from .tune_document import TuneReport, tune_document_options

__all__ = [
    "Report",
    "build_app",
    "TuneReport",
    "calibrate_model",
    "check_mode",
    "evaluate_baseline",
    "evaluate_documents",
    "evaluate_model",
    "predict_documents_file",
    "predict_file",
    "serve",
    "tune_document_options",
]
