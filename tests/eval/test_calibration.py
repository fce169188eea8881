"""Temperature scaling, ECE, NLL and accuracy at coverage, on logits made miscalibrated by construction."""

from __future__ import annotations

import numpy as np
import pytest

from stancekit.eval import calibration


def overconfident_case(n: int = 3000, seed: int = 0):
    """Logits whose softmax says ~99 % while the model is right ~70 % of the time: miscalibrated by construction."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    predicted = np.where(rng.random(n) < 0.7, labels, (labels + rng.integers(1, 3, n)) % 3)
    logits = rng.normal(0, 0.3, (n, 3))
    logits[np.arange(n), predicted] += 5.0
    return logits, labels


def test_temperature_scaling_fixes_an_overconfident_model():
    logits, labels = overconfident_case()
    t = calibration.fit_temperature(logits, labels)
    assert t > 2, "an over-confident model needs T > 1"
    before = calibration.ece(calibration.probabilities(logits), labels)
    after = calibration.ece(calibration.probabilities(logits, t), labels)
    assert before > 0.2 and after < 0.03
    assert calibration.nll(logits, labels, t) < calibration.nll(logits, labels)
    # Scaling never changes a prediction.
    assert (calibration.probabilities(logits, t).argmax(1) == logits.argmax(1)).all()


def test_well_calibrated_model_keeps_temperature_near_one():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 1.5, (4000, 3))
    probs = calibration.probabilities(logits)
    labels = np.array([rng.choice(3, p=p) for p in probs])  # labels drawn from the model's own beliefs
    assert calibration.fit_temperature(logits, labels) == pytest.approx(1.0, abs=0.1)
    assert calibration.ece(probs, labels) < 0.03


def test_ece_by_hand():
    probs = np.array([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [0.6, 0.2, 0.2], [0.6, 0.2, 0.2]])
    labels = np.array([0, 1, 0, 0])
    # Bin (0.867, 0.933]: confidence 0.9, accuracy 0.5; bin (0.533, 0.6]: confidence 0.6, accuracy 1.0.
    assert calibration.ece(probs, labels) == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)


def test_accuracy_at_coverage():
    probs = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.5, 0.3, 0.2], [0.4, 0.35, 0.25]])
    labels = np.array([0, 0, 1, 1])  # the two most confident are right, the two least are wrong
    table = calibration.accuracy_at_coverage(probs, labels)
    assert table["100%"] == 0.5 and table["50%"] == 1.0


def test_fit_on_dataset_pairs_logits_with_their_own_labels():
    """Logits are computed in data set order, so a model that is right 80 % of the time gets T near what
    its own (aligned) logits call for, not the flat T a shuffled pairing would give."""
    from datasets import Dataset

    rng = np.random.default_rng(3)
    n = 600
    labels = rng.integers(0, 3, n).tolist()
    data = Dataset.from_dict(
        {"premise": [f"p{i}" for i in range(n)], "hypothesis": [f"h{i}" for i in range(n)], "label": labels}
    )
    truth = dict(zip(data["hypothesis"], labels))
    noisy = {h: (y if rng.random() < 0.8 else (y + 1) % 3) for h, y in truth.items()}

    def predict_logits(pairs):
        return np.array([np.eye(3)[noisy[h]] * 2.0 for _, h in pairs])

    t, logits, got_labels = calibration.fit_on_dataset(predict_logits, data)
    assert got_labels == labels
    assert (logits.argmax(1) == np.array([noisy[h] for h in data["hypothesis"]])).all()
    # Aligned: about 80 % right, so T stays moderate; misaligned labels (33 % right) would push T to its bound.
    assert 0.5 < t < 3.0
    assert calibration.nll(logits, labels, t) < calibration.nll(logits, labels, 20.0)
