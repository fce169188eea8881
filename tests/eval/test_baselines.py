"""Reference baselines: majority, TF-IDF and hypothesis-only learn what they should."""

from __future__ import annotations

import numpy as np
import pytest

from stancekit.data import build_splits
from stancekit.eval.baselines import fit_baseline
from tests.helpers import compose_config


def sample_splits():
    cfg = compose_config("train", ["paths.output_dir=/tmp/x"])
    return build_splits(cfg.data, cfg.paths.data_root)


def test_majority_baseline_predicts_the_majority_label():
    train = sample_splits().train.select(range(50))
    model = fit_baseline("majority", train)
    counts = np.bincount(train["label"], minlength=3)
    logits = model.predict_logits([("a", "b"), ("c", "d")])
    assert (logits.argmax(1) == counts.argmax()).all()
    assert np.exp(logits).sum(1) == pytest.approx([1, 1])


def test_tfidf_baselines_learn_the_sample_and_hypothesis_only_ignores_the_premise():
    splits = sample_splits()
    full = fit_baseline("tfidf", splits.train)
    hyp = fit_baseline("hypothesis_only", splits.train)
    pairs = list(zip(splits.train["premise"], splits.train["hypothesis"]))
    train_acc = (full.predict_logits(pairs).argmax(1) == np.array(splits.train["label"])).mean()
    assert train_acc > 0.6  # it fits its own training data
    swapped_premises = [("completely different evidence about weather", h) for _, h in pairs[:20]]
    assert np.allclose(hyp.predict_logits(pairs[:20]), hyp.predict_logits(swapped_premises))
    assert not np.allclose(full.predict_logits(pairs[:20]), full.predict_logits(swapped_premises))
