"""Document-level stance: a claim against a whole article, with the sentences that decided it.

A transformer reads at most 512 tokens, so a pair classifier given a 600-word article simply never sees its
second half. Here the article is split into sentences (pySBD, a maintained rule-based splitter), the claim is
scored against every sentence and every window of neighbouring sentences (the pair model's premise), and
the unit scores are aggregated into one document label::

    >>> from stancekit import StanceClassifier
    >>> clf = StanceClassifier.from_pretrained("RUN/model")  # doctest: +SKIP
    >>> result = clf.predict_document("Russia would accept European peacekeepers.", article)  # doctest: +SKIP
    >>> result.label, result.evidence[0].text  # doctest: +SKIP
    ('contradict', 'Lavrov ruled out such a proposal.')

Aggregation rules (``DocumentConfig.aggregation``):

* ``max_evidence`` (default): support (contradict) gets the highest support (contradict) probability of any
  unit; the document is ``support``/``contradict`` when the stronger of the two reaches ``threshold``, else
  ``neutral``. Why the default: a news article is mostly background that is neutral towards any one claim,
  and its stance usually rests on one or two sentences (the "ruled out" quote). Averaging over all units
  drowns that sentence in neutral ones, and the evidence this rule returns is exactly the unit that decided,
  so the explanation is faithful. Its risk, one spurious confident sentence, is what ``threshold`` guards.
* ``top_k_mean``: the same with the mean of the ``top_k`` highest unit probabilities per label: steadier
  when several sentences make the point, but a lone decisive sentence is diluted.
* ``mean``: the mean probability vector over all units. Mostly ``neutral`` on long documents; a baseline.

For ``max_evidence`` and ``top_k_mean`` the document probabilities are the support and contradict scores
``s``, ``c`` and a neutral score ``(1 - m) * t / (1 - t)`` (``m = max(s, c)``, ``t`` the threshold),
normalised to sum to 1: neutral outweighs the evidence exactly when ``m < t``, so the probabilities always
agree with the label, and two strong opposite pieces of evidence show up as a near tie.

The scorer is any callable ``predict_proba(pairs) -> array (n, 3)`` in :data:`~stancekit.labels.LABELS`
order (or an object with such a ``predict_proba`` method), so the aggregation can be tested with a
deterministic stub and used with any pair model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..config import DocumentConfig
from ..data.sentences import Sentence, selected_text, split_sentences
from ..labels import LABEL2ID, LABELS, Pair

log = logging.getLogger(__name__)

Scorer = Callable[[Sequence[Pair]], np.ndarray]
# What a document-level call takes: (claim, document). Its units become (premise=unit, hypothesis=claim) pairs.
DocumentItem = tuple[str, str]

AGGREGATIONS = ("max_evidence", "top_k_mean", "mean")
# How a document reaches the pair model in mode=document (DocumentConfig.input).
INPUTS = ("sentences", "truncated", "selected_sentences")
EVIDENCE_LABELS = ("support", "contradict")


# ------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Evidence:
    """A unit (sentence or window) that supports or contradicts the claim, with its probability for that label."""

    text: str
    label: str
    score: float
    start: int
    end: int


@dataclass
class DocumentResult:
    """The stance of one document towards a claim, and the evidence for it.

    ``evidence`` holds up to ``evidence_k`` supporting and ``evidence_k`` contradicting units whose probability
    for that label reaches the threshold, strongest first; overlapping units (a sentence and a window holding
    it) are given once, the shorter one on ties. For ``input=truncated``/``selected_sentences`` it is empty.
    """

    label: str
    probabilities: dict[str, float]
    evidence: list[Evidence] = field(default_factory=list)
    n_sentences: int = 0
    n_units: int = 0

    @property
    def supporting(self) -> list[Evidence]:
        return [e for e in self.evidence if e.label == "support"]

    @property
    def contradicting(self) -> list[Evidence]:
        return [e for e in self.evidence if e.label == "contradict"]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict: label, probabilities, evidence, n_sentences."""
        return {
            "label": self.label,
            "probabilities": {k: round(float(v), 6) for k, v in self.probabilities.items()},
            "evidence": [{**asdict(e), "score": round(float(e.score), 6)} for e in self.evidence],
            "n_sentences": self.n_sentences,
        }


# ------------------------------------------------------------------------------------------- options
def resolve_options(config: Any = None, **overrides: Any) -> DocumentConfig:
    """A checked :class:`DocumentConfig` from a config (dataclass or Hydra node) and keyword overrides."""
    names = [f.name for f in fields(DocumentConfig)]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise TypeError(f"unknown document option(s) {unknown}; known: {names}")
    values = {name: getattr(config, name) for name in names} if config is not None else {}
    values.update(overrides)
    options = DocumentConfig(**values)
    options.window_sizes = [int(w) for w in options.window_sizes]
    check_options(options)
    return options


def check_options(options: DocumentConfig) -> None:
    """Fail early, naming the option, on a value the code would otherwise misread."""
    if options.input not in INPUTS:
        raise ValueError(f"document.input must be one of {list(INPUTS)}, not {options.input!r}")
    if options.aggregation not in AGGREGATIONS:
        raise ValueError(f"document.aggregation must be one of {list(AGGREGATIONS)}, not {options.aggregation!r}")
    if not options.window_sizes or min(options.window_sizes) < 1:
        raise ValueError(f"document.window_sizes must list sizes >= 1, got {list(options.window_sizes)}")
    if not 0 < options.threshold < 1:
        raise ValueError(f"document.threshold must be in (0, 1), got {options.threshold}")
    for name in ("top_k", "evidence_k", "selected_sentences", "chunk_size"):
        if getattr(options, name) < 1:
            raise ValueError(f"document.{name} must be >= 1, got {getattr(options, name)}")


def document_units(document: str, window_sizes: Sequence[int]) -> list[tuple[Sentence, int, int]]:
    """Sentences and windows of neighbouring sentences: ``(span, first, last)`` sentence indices, no repeats.

    A window longer than the document becomes the whole document, so a one-sentence text still gets scored.
    """
    sentences = split_sentences(document)
    units, seen = [], set()
    for size in sorted(set(window_sizes)):
        size = min(size, len(sentences))
        for first in range(len(sentences) - size + 1):
            last = first + size - 1
            if (first, last) in seen:
                continue
            seen.add((first, last))
            start, end = sentences[first].start, sentences[last].end
            units.append((Sentence(document[start:end], start, end), first, last))
    return units


# ------------------------------------------------------------------------------------------- scoring
def as_scorer(scorer: Any) -> Scorer:
    """A ``predict_proba`` callable from a classifier-like object (``.predict_proba``) or a plain callable."""
    method = getattr(scorer, "predict_proba", None)
    if callable(method):
        return method
    if callable(scorer):
        return scorer
    raise TypeError(f"scorer must be callable or have predict_proba(pairs), got {type(scorer).__name__}")


def _score(scorer: Scorer, pairs: list[Pair]) -> np.ndarray:
    """Score distinct pairs once (a body repeated with the same claim, boilerplate lines) and check the output."""
    index: dict[Pair, int] = {}
    for pair in pairs:
        index.setdefault(pair, len(index))
    unique = list(index)
    probs = np.asarray(scorer(unique), dtype=np.float64) if unique else np.zeros((0, len(LABELS)))
    if probs.shape != (len(unique), len(LABELS)):
        raise ValueError(f"scorer returned shape {probs.shape} for {len(unique)} pairs; expected ({len(unique)}, 3)")
    if (
        not np.all(np.isfinite(probs))
        or probs.min(initial=0) < 0
        or np.abs(probs.sum(axis=1) - 1).max(initial=0) > 1e-3
    ):
        raise ValueError("scorer must return probabilities (rows of 3 non-negative numbers summing to 1), not logits")
    return probs[[index[p] for p in pairs]]


def _check_items(items: Sequence[Any]) -> list[DocumentItem]:
    checked = []
    for i, item in enumerate(items):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ValueError(f"item {i}: expected (claim, document), got {item!r:.80}")
        for value, name in zip(item, ("claim", "document")):
            if not isinstance(value, str):
                raise ValueError(f"item {i}, {name}: expected text, got {type(value).__name__}")
            if not value.strip():
                raise ValueError(f"item {i}, {name}: empty text")
        checked.append((item[0], item[1]))
    return checked


def aggregate(probs: np.ndarray, options: DocumentConfig) -> np.ndarray:
    """One probability vector (LABELS order) from the unit probabilities ``probs`` (units x 3); see module doc."""
    if options.aggregation == "mean":
        return probs.mean(axis=0)
    k = 1 if options.aggregation == "max_evidence" else min(options.top_k, len(probs))
    support = float(np.sort(probs[:, LABEL2ID["support"]])[-k:].mean())
    contradict = float(np.sort(probs[:, LABEL2ID["contradict"]])[-k:].mean())
    strongest, t = max(support, contradict), options.threshold
    scores = np.zeros(len(LABELS))
    scores[LABEL2ID["support"]] = support
    scores[LABEL2ID["contradict"]] = contradict
    scores[LABEL2ID["neutral"]] = (1.0 - strongest) * t / (1.0 - t)
    return scores / scores.sum()


def select_evidence(
    units: list[tuple[Sentence, int, int]], probs: np.ndarray, options: DocumentConfig
) -> list[Evidence]:
    """Up to ``evidence_k`` non-overlapping units per label whose probability reaches the threshold."""
    evidence: list[Evidence] = []
    for label in EVIDENCE_LABELS:
        column = probs[:, LABEL2ID[label]]
        order = sorted(range(len(units)), key=lambda i: (-column[i], units[i][2] - units[i][1], units[i][1]))
        taken: list[tuple[int, int]] = []
        for i in order:
            if len(taken) == options.evidence_k or column[i] < options.threshold:
                break
            span, first, last = units[i]
            if any(first <= b and a <= last for a, b in taken):
                continue
            taken.append((first, last))
            evidence.append(Evidence(span.text, label, float(column[i]), span.start, span.end))
    return sorted(evidence, key=lambda e: -e.score)


def _result(probs: np.ndarray, evidence: list[Evidence], n_sentences: int, n_units: int) -> DocumentResult:
    return DocumentResult(
        label=LABELS[int(np.argmax(probs))],
        probabilities={lab: float(p) for lab, p in zip(LABELS, probs)},
        evidence=evidence,
        n_sentences=n_sentences,
        n_units=n_units,
    )


def predict_documents(
    scorer: Any, items: Sequence[DocumentItem], config: Any = None, *, progress: bool = False, **overrides: Any
) -> list[DocumentResult]:
    """Stance of each ``(claim, document)`` item, with evidence; results in input order.

    ``scorer``: ``predict_proba(pairs) -> (n, 3)`` or an object with that method (a StanceClassifier).
    ``config``: a :class:`DocumentConfig` (or Hydra node); keyword overrides win, e.g. ``aggregation="mean"``.
    With ``input=sentences`` (default) every unit of ``chunk_size`` documents goes to the scorer in one call
    (the classifier sorts them by length, so batches pad little); ``truncated`` and ``selected_sentences``
    send one premise per document and return no evidence.
    """
    options = resolve_options(config, **overrides)
    items = _check_items(items)
    scorer = as_scorer(scorer)
    results: list[DocumentResult] = []
    starts = range(0, len(items), options.chunk_size)
    for begin in tqdm(starts, desc="documents", unit="chunk", disable=not progress or len(starts) < 2):
        chunk = items[begin : begin + options.chunk_size]
        if options.input != "sentences":
            premises = [
                document if options.input == "truncated" else selected_text(claim, document, options.selected_sentences)
                for claim, document in chunk
            ]
            probs = _score(scorer, [(p, claim) for p, (claim, _) in zip(premises, chunk)])
            results.extend(_result(row, [], 0, 1) for row in probs)
            continue
        units = [document_units(document, options.window_sizes) for _, document in chunk]
        pairs = [(span.text, claim) for (claim, _), doc_units in zip(chunk, units) for span, _, _ in doc_units]
        probs = _score(scorer, pairs)
        offset = 0
        for (_, document), doc_units in zip(chunk, units):
            unit_probs = probs[offset : offset + len(doc_units)]
            offset += len(doc_units)
            results.append(
                _result(
                    aggregate(unit_probs, options),
                    select_evidence(doc_units, unit_probs, options),
                    len(split_sentences(document)),
                    len(doc_units),
                )
            )
    return results


def predict_document(scorer: Any, claim: str, document: str, config: Any = None, **overrides: Any) -> DocumentResult:
    """Stance of one document towards ``claim``; see :func:`predict_documents`."""
    return predict_documents(scorer, [(claim, document)], config, **overrides)[0]


