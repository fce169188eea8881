"""Library side of ``scripts/baseline.py``: a reference baseline fitted on the training split and scored
exactly as a model is (same splits, same metrics, same report)."""

from __future__ import annotations

import numpy as np
from omegaconf import DictConfig

from ..data import build_splits
from ..eval.baselines import fit_baseline
from ..version import source_commit
from .common import Report, capability_suite, collect_test_sets, write_report


def evaluate_baseline(cfg: DictConfig) -> Report:
    """Fit ``cfg.baseline`` on the training split of ``cfg.data`` (after the validation hold-back, as a model
    would be trained) and score it on the same test sets, with the same report."""
    commit = source_commit()
    train = build_splits(cfg.data, cfg.paths.data_root, ("train", "validation")).train
    if train is None:
        raise ValueError(f"data config {cfg.data.name!r} has no training data to fit a baseline on")
    model = fit_baseline(cfg.baseline, train, cfg.seed)
    splits, title = collect_test_sets(cfg)
    suite = capability_suite(cfg.suite, lambda pairs: np.exp(model.predict_logits(pairs)))
    return write_report(
        cfg,
        model.predict_logits,
        splits.test,
        title=f"baseline {cfg.baseline}: {title}",
        context=f"Baseline `{cfg.baseline}` fitted on {len(train)} training pairs of `{cfg.data.name}`.",
        capabilities=suite,
        commit=commit,
    )
