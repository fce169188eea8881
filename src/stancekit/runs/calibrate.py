"""Library side of ``scripts/calibrate.py``: fit (or refit) a saved model's temperature and store it."""

from __future__ import annotations

from omegaconf import DictConfig

from ..data import build_splits
from ..eval.calibration import calibration_block, fit_on_dataset
from ..infer.classifier import StanceClassifier
from ..models.folder import update_metadata


def calibrate_model(cfg: DictConfig) -> dict:
    """Fit the temperature of ``cfg.model_dir`` on the validation split of ``cfg.data`` and store it.

    The validation split is the one training used (a validation source, or the same seeded hold-back), so
    calibrating again after training gives the temperature training stored; use your own validation file
    (``data=jsonl data.validation_file=...``) to calibrate a model for your data. Returns the temperature,
    the previous one, and ECE/NLL before and after.
    """
    splits = build_splits(cfg.data, cfg.paths.data_root, ("train", "validation"))
    if splits.validation is None:
        raise ValueError(f"data config {cfg.data.name!r} has no validation data to calibrate on")
    classifier = StanceClassifier.from_pretrained(cfg.model_dir, device=cfg.device, batch_size=cfg.batch_size)
    temperature, logits, labels = fit_on_dataset(classifier.predict_logits, splits.validation)
    before, after = calibration_block(logits, labels, 1.0), calibration_block(logits, labels, temperature)
    update_metadata(cfg.model_dir, temperature=temperature)
    return {
        "temperature": temperature,
        "n": len(labels),
        "ece_before": before["ece"],
        "ece": after["ece"],
        "nll_before": before["nll"],
        "nll": after["nll"],
        "previous_temperature": classifier.temperature,
    }
