"""Evaluation: metrics per labelled set, reports and plots, calibration, the capability suite and the
reference baselines, all scoring any ``predict_logits(pairs)`` the same way."""

from .metrics import compute_metrics
from .report import evaluate_sets, metrics_table, predict_sets, score_sets, write_results

__all__ = ["compute_metrics", "evaluate_sets", "metrics_table", "predict_sets", "score_sets", "write_results"]
