"""The numbers of one labelled set: accuracy, macro-F1 over the labels the set has, per-label scores and
the confusion matrix.

A set that has only some of our labels (FEVER-Symmetric: support and contradict) is scored on the labels
it has: macro-F1 averages over those, and predicting the absent label counts as an error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from ..labels import LABELS


def compute_metrics(y_true: Sequence[int], y_pred: Sequence[int]) -> dict:
    """Accuracy, macro-F1 over the labels present in ``y_true``, per-label P/R/F1/support, confusion matrix."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    all_ids = list(range(len(LABELS)))
    present = sorted(set(y_true.tolist()))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=all_ids, zero_division=0)
    return {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)) if len(y_true) else 0.0,
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "labels_scored": [LABELS[i] for i in present],
        "per_label": {
            LABELS[i]: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i in all_ids
        },
        # Rows are the gold label, columns the prediction, both in LABELS order.
        "confusion_matrix": {
            "labels": list(LABELS),
            "matrix": confusion_matrix(y_true, y_pred, labels=all_ids).tolist(),
        },
    }
