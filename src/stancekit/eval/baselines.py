"""Reference baselines, scored by the same harness on the same splits as the transformer.

* ``majority``: always the most frequent training label (probabilities = the training label prior).
* ``tfidf``: TF-IDF features of the premise, of the hypothesis and of their overlap (elementwise product
  over a shared vocabulary), with a logistic regression: what word statistics alone achieve.
* ``hypothesis_only``: the same model on the hypothesis alone, premise hidden (Poliak et al., 2018;
  Gururangan et al., 2018): how much of a data set can be solved without reading the evidence.

Each returns log-probabilities as "logits", so calibration metrics and reports work unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from datasets import Dataset
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from ..labels import LABELS, Pair

Pairs = Sequence[Pair]
BASELINES = ("majority", "tfidf", "hypothesis_only")


class MajorityBaseline:
    def fit(self, premises: list[str], hypotheses: list[str], labels: list[int]) -> MajorityBaseline:
        counts = np.bincount(labels, minlength=len(LABELS)).astype(np.float64)
        # The argmax must be the majority label; the probabilities are the (smoothed) prior.
        self.log_prior = np.log((counts + 1) / (counts.sum() + len(LABELS)))
        return self

    def predict_logits(self, pairs: Pairs) -> np.ndarray:
        return np.tile(self.log_prior, (len(pairs), 1))


class TfidfBaseline:
    """Logistic regression on TF-IDF features; ``hypothesis_only`` drops every premise feature."""

    def __init__(self, hypothesis_only: bool = False, max_features: int = 50_000, c: float = 1.0, seed: int = 0):
        self.hypothesis_only = hypothesis_only
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=max_features, sublinear_tf=True)
        self.classifier = LogisticRegression(C=c, max_iter=2000, random_state=seed)

    def _features(self, premises: list[str], hypotheses: list[str]) -> sp.csr_matrix:
        h = self.vectorizer.transform(hypotheses)
        if self.hypothesis_only:
            return h
        p = self.vectorizer.transform(premises)
        return sp.hstack([p, h, p.multiply(h)]).tocsr()

    def fit(self, premises: list[str], hypotheses: list[str], labels: list[int]) -> TfidfBaseline:
        self.vectorizer.fit(list(hypotheses) + ([] if self.hypothesis_only else list(premises)))
        self.classifier.fit(self._features(premises, hypotheses), labels)
        return self

    def predict_logits(self, pairs: Pairs) -> np.ndarray:
        premises, hypotheses = [p for p, _ in pairs], [h for _, h in pairs]
        proba = self.classifier.predict_proba(self._features(premises, hypotheses))
        # The classifier only knows the labels it saw; put its columns back in LABELS order.
        full = np.full((len(pairs), len(LABELS)), 1e-9)
        full[:, self.classifier.classes_] = proba
        return np.log(full)


def fit_baseline(kind: str, train: Dataset, seed: int = 0):
    """A fitted baseline with ``predict_logits(pairs)``."""
    if kind not in BASELINES:
        raise ValueError(f"unknown baseline {kind!r}; choose one of {BASELINES}")
    model = (
        MajorityBaseline()
        if kind == "majority"
        else TfidfBaseline(hypothesis_only=kind == "hypothesis_only", seed=seed)
    )
    return model.fit(list(train["premise"]), list(train["hypothesis"]), list(train["label"]))
