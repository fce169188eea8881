"""Library side of scripts/evaluate.py and scripts/predict.py: a saved model applied to files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from omegaconf import DictConfig

from .data import DataError, build_splits
from .data.readers import iter_jsonl
from .evaluation import evaluate_sets
from .inference import StanceClassifier

log = logging.getLogger(__name__)


def evaluate_model(cfg: DictConfig) -> dict:
    """Evaluate ``cfg.model_dir`` on the test sources of ``cfg.data``; write the report to the run folder."""
    splits = build_splits(cfg.data, cfg.paths.data_root, ("test",))
    if not splits.test:
        raise ValueError(f"data config {cfg.data.name!r} has no test data (set data.test_file or data.test)")
    classifier = StanceClassifier.from_pretrained(
        cfg.model_dir, device=cfg.device, batch_size=cfg.batch_size, max_length=cfg.max_length
    )
    return evaluate_sets(
        classifier.predict_proba,
        splits.test,
        cfg.paths.output_dir,
        title=f"stancekit evaluation: {cfg.data.name}",
        context=f"Model `{cfg.model_dir}`.",
    )


def predict_file(cfg: DictConfig) -> int:
    """Label every line of ``cfg.input`` and write ``cfg.output`` (input fields kept, predictions added).

    The output goes to a temporary name first and is renamed when complete, so a failed run never leaves
    a truncated file that looks finished.
    """
    source = Path(cfg.input)
    records, pairs = [], []
    for line, record in iter_jsonl(source):
        texts = []
        for field in (cfg.premise_field, cfg.hypothesis_field):
            value = record.get(field)
            if not isinstance(value, str) or not value.strip():
                problem = "missing" if field not in record else f"expected non-empty text, got {value!r}"
                raise DataError(source, line, field, problem)
            texts.append(value)
        records.append(record)
        pairs.append((texts[0], texts[1]))
    classifier = StanceClassifier.from_pretrained(
        cfg.model_dir, device=cfg.device, batch_size=cfg.batch_size, max_length=cfg.max_length
    )
    probs = classifier.predict_proba(pairs)
    out = Path(cfg.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for record, p in zip(records, probs):
            record["prediction"] = classifier.labels[int(p.argmax())]
            record["probabilities"] = {lab: round(float(v), 6) for lab, v in zip(classifier.labels, p)}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(out)
    return len(records)
