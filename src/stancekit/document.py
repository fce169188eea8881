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

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import DocumentConfig
from .labels import LABEL2ID, LABELS

if TYPE_CHECKING:
    from .data import Splits

log = logging.getLogger(__name__)

Pair = tuple[str, str]
Scorer = Callable[[Sequence[Pair]], np.ndarray]

AGGREGATIONS = ("max_evidence", "top_k_mean", "mean")
# How a document reaches the pair model in mode=document (DocumentConfig.input).
INPUTS = ("sentences", "truncated", "selected_sentences")
# How training (and mode=pairs evaluation) feeds a long premise (DataConfig.document_input).
DOCUMENT_INPUTS = ("truncated", "selected_sentences")
MODES = ("pairs", "document")
EVIDENCE_LABELS = ("support", "contradict")


# ------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Sentence:
    """A sentence (or window of sentences) of a document: ``document[start:end] == text``."""

    text: str
    start: int
    end: int


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


# ------------------------------------------------------------------------------------------- sentences
@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    # clean=False: the text is not rewritten, so offsets stay those of the original document.
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


@lru_cache(maxsize=8192)
def split_sentences(document: str) -> tuple[Sentence, ...]:
    """The document's sentences, with exact character offsets (``document[s.start:s.end] == s.text``).

    pySBD finds the sentence starts; each sentence runs to the next start, stripped of surrounding
    whitespace. Text pySBD cannot place (it drops a sentence it altered) stays inside its neighbour, so
    every non-blank character of the document belongs to exactly one sentence. Cached: FNC-1 pairs each
    body with about 28 headlines.
    """
    starts: list[int] = []
    for span in _segmenter().segment(document):
        if not starts or span.start > starts[-1]:
            starts.append(span.start)
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    sentences = []
    for begin, end in zip(starts, starts[1:] + [len(document)]):
        piece = document[begin:end]
        start = begin + (len(piece) - len(piece.lstrip()))
        stop = end - (len(piece) - len(piece.rstrip()))
        if stop > start:
            sentences.append(Sentence(document[start:stop], start, stop))
    return tuple(sentences)


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


def _check_items(items: Sequence[Any]) -> list[Pair]:
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
    scorer: Any, items: Sequence[Pair], config: Any = None, *, progress: bool = False, **overrides: Any
) -> list[DocumentResult]:
    """Stance of each ``(claim, document)`` item, with evidence; results in input order.

    ``scorer``: ``predict_proba(pairs) -> (n, 3)`` or an object with that method (a StanceClassifier).
    ``config``: a :class:`DocumentConfig` (or Hydra node); keyword overrides win, e.g. ``aggregation="mean"``.
    With ``input=sentences`` (default) every unit of ``chunk_size`` documents goes to the scorer in one call
    (the classifier sorts them by length, so batches pad little); ``truncated`` and ``selected_sentences``
    send one premise per document and return no evidence.
    """
    from tqdm.auto import tqdm

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


# ------------------------------------------------------------------------------------------- selection
@lru_cache(maxsize=4096)
def _sentence_index(document: str):
    """TF-IDF over the document's own sentences (fitted once per document: FNC-1 reuses each body often)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [s.text for s in split_sentences(document)]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    try:
        return vectorizer, vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stop words and punctuation: no vocabulary to compare with
        return None, None


def select_sentences(claim: str, document: str, k: int) -> list[Sentence]:
    """The ``k`` sentences most similar to the claim (TF-IDF cosine), in document order.

    A cheap lexical selector: the sentences that share the claim's rarer words. Ties and documents without
    any usable vocabulary keep the earlier sentences.
    """
    sentences = split_sentences(document)
    if len(sentences) <= k:
        return list(sentences)
    vectorizer, matrix = _sentence_index(document)
    if vectorizer is None:
        similarity = np.zeros(len(sentences))
    else:
        similarity = (matrix @ vectorizer.transform([claim]).T).toarray().ravel()
    top = sorted(range(len(sentences)), key=lambda i: (-similarity[i], i))[:k]
    return [sentences[i] for i in sorted(top)]


def selected_text(claim: str, document: str, k: int) -> str:
    """The selected sentences joined with spaces: the premise for ``selected_sentences`` input."""
    return " ".join(s.text for s in select_sentences(claim, document, k))


def apply_document_input(splits: Splits, data: Any) -> Splits:
    """Apply ``data.document_input`` to every split before tokenisation.

    ``truncated`` (default) leaves premises alone (the tokenizer cuts long ones at ``model.max_length``);
    ``selected_sentences`` replaces each premise by its ``data.document_sentences`` sentences most similar to
    the hypothesis. Short premises (one sentence, as in NLI data) come through unchanged.
    """
    mode = getattr(data, "document_input", "truncated")
    if mode not in DOCUMENT_INPUTS:
        raise ValueError(f"data.document_input must be one of {list(DOCUMENT_INPUTS)}, not {mode!r}")
    if mode == "truncated":
        return splits
    k = int(data.document_sentences)
    if k < 1:
        raise ValueError(f"data.document_sentences must be >= 1, got {k}")

    def select(batch: dict[str, list]) -> dict[str, list]:
        return {"premise": [selected_text(h, p, k) for p, h in zip(batch["premise"], batch["hypothesis"])]}

    def transform(dataset):
        return dataset.map(select, batched=True, desc=f"select {k} sentences") if dataset is not None else None

    splits.train = transform(splits.train)
    splits.validation = transform(splits.validation)
    splits.test = {name: transform(dataset) for name, dataset in splits.test.items()}
    return splits


# ------------------------------------------------------------------------------------------- files
def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, not {mode!r}")
    return mode


def _field(record: dict, names: Sequence[str], path: Path, line: int) -> str:
    """The first of ``names`` present in the record, as non-empty text; else a DataError naming the field."""
    from .data import DataError

    for name in names:
        if name in record:
            value = record[name]
            if not isinstance(value, str) or not value.strip():
                raise DataError(path, line, name, f"expected non-empty text, got {value!r:.80}")
            return value
    wanted = " or ".join(repr(n) for n in names)
    raise DataError(path, line, names[0], f"missing (looked for {wanted}; found: {', '.join(map(str, record))})")


def read_document_items(path: Path, claim_fields: Sequence[str], document_fields: Sequence[str]):
    """Records and ``(claim, document)`` items of a JSONL file; errors name the file, line and field."""
    from .data.readers import iter_jsonl

    if not claim_fields or not document_fields:
        raise ValueError("claim_fields and document_fields must each name at least one field")
    records, items = [], []
    for line, record in iter_jsonl(path):
        items.append((_field(record, claim_fields, path, line), _field(record, document_fields, path, line)))
        records.append(record)
    return records, items


def predict_documents_file(cfg: Any) -> int:
    """``scripts/predict.py mode=document``: label each JSONL line's document against its claim.

    Each line needs a claim (``claim_fields``, default ``claim`` then ``headline``) and a document
    (``document_fields``: ``document`` then ``body``). Every input field is kept; ``prediction``,
    ``probabilities``, ``evidence`` (text, label, score, start, end) and ``n_sentences`` are added. The
    output goes to a temporary name and is renamed when complete.
    """
    from .scoring import load_classifier

    options = resolve_options(cfg.document)
    source = Path(cfg.input)
    records, items = read_document_items(source, list(cfg.claim_fields), list(cfg.document_fields))
    classifier = load_classifier(cfg)
    results = predict_documents(classifier.predict_proba, items, options, progress=True)
    out = Path(cfg.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for record, result in zip(records, results):
            d = result.to_dict()
            record.update(prediction=d["label"], probabilities=d["probabilities"], evidence=d["evidence"])
            record["n_sentences"] = d["n_sentences"]
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(out)
    return len(records)
