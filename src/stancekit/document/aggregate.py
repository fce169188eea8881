"""Document-level stance: a claim against a whole article, with the sentences that decided it.

A transformer reads at most 512 tokens, so a pair classifier given a 600-word article simply never sees its
second half. Here the article is split into sentences (pySBD, a maintained rule-based splitter), the claim is
scored against every sentence and every window of neighbouring sentences (the pair model's premise), and
the unit scores are aggregated into one document label::

    >>> from stancekit import StanceClassifier
    >>> clf = StanceClassifier.from_pretrained("RUN/model")  # doctest: +SKIP
    >>> result = clf.predict_document("Russia would accept European peacekeepers.", article)  # doctest: +SKIP
    >>> result.label, result.evidence[0].text  # doctest: +SKIP
    ('contradict', 'Moscow ruled out European peacekeepers.')

Which units count (``input=sentences``), both before scoring, so neither costs a model call:

* ``skip_boilerplate`` (default on): sentences that are page furniture (photo credits such as "MIKHAIL
  METZEL/Getty Images", bylines, datelines, headings such as "What to know", share/contact/subscribe lines, bare
  URLs; :func:`stancekit.document.evidence.is_boilerplate`) are not units, and windows do not cross them:
  a window is a run of neighbouring kept sentences, so its text is still ``document[start:end]`` and never
  holds a credit line. Why: a pair model labels such lines with confident nonsense (a user's true claim got
  the credit line as its top ``contradict`` evidence at 0.89). The cost: a window across a credit that sits
  mid-paragraph is not formed. They still count in ``n_sentences``.
* ``min_claim_overlap`` (default 1): a unit is scored only if it shares that many content words with the
  claim (:func:`stancekit.document.evidence.claim_overlap`: stop words removed, light stemming, so
  "peacekeepers" matches "peacekeeping"). Why: a unit about something else has no stance on the claim, and
  under ``max_evidence`` one spurious confident unit decides the document. The test is lexical, so one
  sentence of context counts too: a unit also passes when the sentence right before its first one (the
  previous sentence of the same run, so with ``skip_boilerplate`` never one across a credit line) does.
  Why: news refers back to the claim's subject by anaphor ("Macron proposed sending European peacekeepers.
  Lavrov ruled out such a proposal."), the referring sentence is often the decisive one, and an anaphor
  ("such a proposal", "the plan", "it", "this") most often points to the sentence just before. So that
  sentence is scored, and shown as evidence, on its own, not only inside a window with its antecedent. Still
  dropped: a sentence two or more sentences after the last one with a claim word (as a unit of its own; a
  window that begins with a kept sentence may still hold it), and a unit about another story. 0 disables.

A document left with no unit is ``neutral`` (probability 1) with no evidence. Aggregation and evidence below
are over the kept units only (``n_units`` counts them).

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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..config import DocumentConfig
from ..data.sentences import Sentence, selected_text, split_sentences
from ..labels import LABEL2ID, LABELS, Pair
from .evidence import is_boilerplate, matched_claim_words, required_overlap

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
    ``n_sentences`` counts every sentence of the document, boilerplate included; ``n_units`` the units scored
    (after the boilerplate and claim-overlap filters).
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
    # A string "false" from a caller would be truthy and silently keep the filter on.
    if not isinstance(options.skip_boilerplate, bool):
        raise ValueError(f"document.skip_boilerplate must be true or false, got {options.skip_boilerplate!r}")
    overlap = options.min_claim_overlap
    if isinstance(overlap, bool) or not isinstance(overlap, int) or overlap < 0:
        raise ValueError(f"document.min_claim_overlap must be an integer >= 0 (0: off), got {overlap!r}")


def _runs(flags: Sequence[bool]) -> list[range]:
    """Index ranges of consecutive ``True`` flags."""
    runs, begin = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and begin is None:
            begin = i
        elif not flag and begin is not None:
            runs.append(range(begin, i))
            begin = None
    return runs


def document_units(
    document: str, window_sizes: Sequence[int], *, skip_boilerplate: bool = True
) -> list[tuple[Sentence, int, int]]:
    """Sentences and windows of neighbouring sentences: ``(span, first, last)`` sentence indices, no repeats.

    With ``skip_boilerplate``, boilerplate sentences are no unit and split the document into runs of kept
    sentences; windows stay inside a run, so a unit's text is ``document[start:end]`` and holds no boilerplate.
    A window longer than its run becomes the whole run, so a one-sentence text still gets scored.
    """
    sentences = split_sentences(document)
    runs = _runs([not (skip_boilerplate and is_boilerplate(s.text)) for s in sentences])
    units, seen = [], set()
    for size in sorted(set(window_sizes)):
        for run in runs:
            width = min(size, len(run))
            for first in range(run.start, run.stop - width + 1):
                last = first + width - 1
                if (first, last) in seen:
                    continue
                seen.add((first, last))
                start, end = sentences[first].start, sentences[last].end
                units.append((Sentence(document[start:end], start, end), first, last))
    return units


def related_units(
    claim: str, document: str, units: list[tuple[Sentence, int, int]], min_overlap: int
) -> list[tuple[Sentence, int, int]]:
    """The units related to the claim (see the module doc): those whose own sentences, or whose context
    sentence (the one right before their first, if it is a kept sentence of the same run), share at least
    ``min_overlap`` content words with it. The two are counted apart, not pooled.

    A window's words are those of its sentences (sentences split at word boundaries), so the per-sentence
    matches are cached and reused across windows and across the claims a body is paired with. The kept
    sentences are those the units cover (``document_units`` covers every kept one), and a run is a stretch of
    consecutive kept ones, so "the previous sentence is kept" is "it is in the same run".
    """
    need = required_overlap(claim, min_overlap)
    if need == 0:
        return units
    sentences = split_sentences(document)
    covered = {i for _, first, last in units for i in range(first, last + 1)}

    def matched(i: int) -> frozenset[str]:
        return matched_claim_words(claim, sentences[i].text)

    kept = []
    for unit in units:
        _, first, last = unit
        own = set().union(*(matched(i) for i in range(first, last + 1)))
        context = matched(first - 1) if first - 1 in covered else frozenset()
        if len(own) >= need or len(context) >= need:
            kept.append(unit)
    return kept


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
    """One probability vector (LABELS order) from the unit probabilities ``probs`` (units x 3); see module doc.

    No units (all boilerplate or unrelated to the claim): ``neutral`` with probability 1, which is also what
    the max_evidence formula gives for zero support and contradict scores.
    """
    if len(probs) == 0:
        return np.eye(len(LABELS))[LABEL2ID["neutral"]]
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


def _chunks(items: list[DocumentItem], size: int, progress: bool):
    """``items`` in slices of ``size`` (one scorer call each), with a progress bar over them if asked."""
    starts = range(0, len(items), size)
    for begin in tqdm(starts, desc="documents", unit="chunk", disable=not progress or len(starts) < 2):
        yield items[begin : begin + size]


def unit_probabilities(
    scorer: Any, items: Sequence[DocumentItem], config: Any = None, *, progress: bool = False, **overrides: Any
) -> Iterator[tuple[list[tuple[Sentence, int, int]], np.ndarray]]:
    """Per item (input order) its kept units ``(span, first, last)`` and their probabilities (units x 3), one
    scorer call per ``chunk_size`` items as they are consumed: ``aggregate`` can try many options on them."""
    options = resolve_options(config, **overrides)
    if options.input != "sentences":
        raise ValueError(f"unit probabilities need document.input=sentences, not {options.input!r}")
    return _unit_probabilities(as_scorer(scorer), _check_items(items), options, progress)


def _unit_probabilities(scorer: Scorer, items: list[DocumentItem], options: DocumentConfig, progress: bool):
    windows, skip, overlap = options.window_sizes, options.skip_boilerplate, options.min_claim_overlap
    for chunk in _chunks(items, options.chunk_size, progress):
        units = [related_units(c, d, document_units(d, windows, skip_boilerplate=skip), overlap) for c, d in chunk]
        pairs = [(span.text, claim) for (claim, _), doc_units in zip(chunk, units) for span, _, _ in doc_units]
        probs = _score(scorer, pairs)
        offset = 0
        for doc_units in units:
            yield doc_units, probs[offset : offset + len(doc_units)]
            offset += len(doc_units)


def predict_documents(
    scorer: Any, items: Sequence[DocumentItem], config: Any = None, *, progress: bool = False, **overrides: Any
) -> list[DocumentResult]:
    """Stance of each ``(claim, document)`` item, with evidence; results in input order.

    ``scorer``: ``predict_proba(pairs) -> (n, 3)`` or an object with that method (a StanceClassifier).
    ``config``: a :class:`DocumentConfig` (or Hydra node); keyword overrides win, e.g. ``aggregation="mean"``.
    With ``input=sentences`` (default) every unit of ``chunk_size`` documents goes to the scorer in one call
    (the classifier sorts them by length, so batches pad little); ``truncated`` and ``selected_sentences``
    send one premise per document and return no evidence (the boilerplate and claim-overlap filters apply to
    ``sentences`` only).
    """
    options = resolve_options(config, **overrides)
    items = _check_items(items)
    scorer = as_scorer(scorer)
    if options.input == "sentences":
        scored = _unit_probabilities(scorer, items, options, progress)
        return [
            _result(
                aggregate(probs, options), select_evidence(units, probs, options), len(split_sentences(doc)), len(units)
            )
            for (_, doc), (units, probs) in zip(items, scored)
        ]
    results: list[DocumentResult] = []
    for chunk in _chunks(items, options.chunk_size, progress):
        premises = [
            document if options.input == "truncated" else selected_text(claim, document, options.selected_sentences)
            for claim, document in chunk
        ]
        probs = _score(scorer, [(p, claim) for p, (claim, _) in zip(premises, chunk)])
        results.extend(_result(row, [], 0, 1) for row in probs)
    return results


def predict_document(scorer: Any, claim: str, document: str, config: Any = None, **overrides: Any) -> DocumentResult:
    """Stance of one document towards ``claim``; see :func:`predict_documents`."""
    return predict_documents(scorer, [(claim, document)], config, **overrides)[0]
