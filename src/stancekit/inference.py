"""``StanceClassifier``: load a saved stance model and label (evidence, claim) pairs.

Example (runs as a doctest against a model folder made by ``scripts/train.py``)::

    >>> from stancekit import StanceClassifier
    >>> clf = StanceClassifier.from_pretrained("outputs/train/latest/model")  # doctest: +SKIP
    >>> clf.predict([("Lavrov ruled out European peacekeepers in Ukraine.",
    ...               "Russia would accept European peacekeepers.")])  # doctest: +SKIP
    ['contradict']
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from .labels import ID2LABEL, LABELS, is_stance_label_config
from .modeling import encode_pairs, pick_device

log = logging.getLogger(__name__)

Pair = tuple[str, str]


class NotAStanceModelError(ValueError):
    """The folder is not a stancekit model: no classifier config, or labels other than ours."""


class StanceClassifier:
    """Labels (premise/evidence, hypothesis/claim) pairs as support / contradict / neutral.

    Pairs are sorted by length before batching (much less padding, so much faster on CPU) and results
    come back in input order. Long pairs are truncated from the premise side.
    """

    labels: tuple[str, ...] = LABELS

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        device: str | torch.device = "auto",
        batch_size: int = 32,
        max_length: int | None = None,
    ):
        check_stance_config(model.config.id2label, getattr(model, "name_or_path", "model"))
        self.device = pick_device(device) if isinstance(device, str) else device
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        model_limit = getattr(model.config, "max_position_embeddings", 512)
        tokenizer_limit = tokenizer.model_max_length if tokenizer.model_max_length < 100_000 else model_limit
        self.max_length = max_length or min(model_limit, tokenizer_limit, 512)

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        device: str = "auto",
        batch_size: int = 32,
        max_length: int | None = None,
        trust_remote_code: bool = False,
    ) -> StanceClassifier:
        """Load a model folder written by stancekit (or any classifier with our three labels)."""
        path = Path(path).expanduser()
        if not (path / "config.json").exists():
            raise NotAStanceModelError(f"{path}: no config.json, so not a saved model folder")
        config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
        check_stance_config(getattr(config, "id2label", None), str(path))
        model = AutoModelForSequenceClassification.from_pretrained(path, trust_remote_code=trust_remote_code)
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
        return cls(model, tokenizer, device=device, batch_size=batch_size, max_length=max_length)

    @torch.inference_mode()
    def predict_logits(self, pairs: Sequence[Pair], batch_size: int | None = None) -> np.ndarray:
        """Raw logits, shape ``(len(pairs), 3)``, columns in :attr:`labels` order, rows in input order."""
        pairs = _check_pairs(pairs)
        batch_size = batch_size or self.batch_size
        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        if not pairs:
            return out
        # Sort by character length as a cheap proxy for token length: batches of similar length pad little.
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            enc = encode_pairs(
                self.tokenizer,
                [pairs[i][0] for i in idx],
                [pairs[i][1] for i in idx],
                self.max_length,
                padding=True,
                return_tensors="pt",
            )
            enc = {k: v.to(self.device) for k, v in enc.items()}
            out[idx] = self.model(**enc).logits.float().cpu().numpy()
        return out

    def predict_proba(self, pairs: Sequence[Pair], batch_size: int | None = None) -> np.ndarray:
        """Probabilities, shape ``(len(pairs), 3)``; column ``j`` is the probability of ``labels[j]``."""
        logits = self.predict_logits(pairs, batch_size)
        return _softmax(logits)

    def predict(self, pairs: Sequence[Pair], batch_size: int | None = None) -> list[str]:
        """The most probable label name for each pair, in input order."""
        probs = self.predict_proba(pairs, batch_size)
        return [ID2LABEL[int(i)] for i in probs.argmax(axis=1)]


def check_stance_config(id2label: object, where: str) -> None:
    """Raise :class:`NotAStanceModelError` unless the model's labels are exactly ours, in our order."""
    if not isinstance(id2label, dict) or not is_stance_label_config(id2label):
        found = list(id2label.values()) if isinstance(id2label, dict) else id2label
        raise NotAStanceModelError(
            f"{where}: not a stance model: its labels are {found}, expected {list(LABELS)} in that order. "
            "Train one with scripts/train.py, or pass a folder it wrote (RUN/model)."
        )


def _check_pairs(pairs: Iterable[Pair]) -> list[Pair]:
    checked = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"pair {i}: expected (premise, hypothesis), got {pair!r}")
        for j, name in enumerate(("premise", "hypothesis")):
            if not isinstance(pair[j], str):
                raise ValueError(f"pair {i}, {name}: expected text, got {type(pair[j]).__name__}")
            if not pair[j].strip():
                raise ValueError(f"pair {i}, {name}: empty text")
        checked.append((pair[0], pair[1]))
    return checked


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)
