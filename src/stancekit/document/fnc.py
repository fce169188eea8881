"""FNC-1-style scoring of document-level stance, and ``scripts/evaluate.py mode=document``.

FNC-1 and ARC label a (headline, body) pair ``agree``, ``disagree``, ``discuss`` or ``unrelated``; our
models say ``support``, ``contradict`` or ``neutral``. The main report (through
:func:`stancekit.eval.report.evaluate_sets`) scores our three labels with ``unrelated`` mapped as the data
config says (to ``neutral`` by default). For the FNC view we need four labels, so a prediction gets one:

* ``unrelated_rule=lexical`` (default): a pair is ``unrelated`` when the TF-IDF cosine between headline and
  body is below ``relatedness_threshold``; otherwise support/contradict/neutral become agree/disagree/
  discuss. Why: relatedness is a question of topic, which NLI training never teaches (NLI's ``neutral``
  covers both "same story, no position" and "another story"), while word overlap answers it well: on the
  FNC-1 training hold-out (337 bodies, 4 of every 5 pairs unrelated) the cosine separates related from
  unrelated pairs with ROC AUC 0.99, and FNC-1's threshold 0.07 was picked there (related/unrelated
  accuracy 0.982; 0.968 on the competition test; 0.871 on ARC test, whose user posts overlap less with
  their claims: 0.045 would give 0.877 there). For another corpus, :func:`choose_relatedness_threshold`
  picks the threshold on labelled pairs outside its test split by the expected FNC score, which weighs a
  related pair passed above an unrelated one gated (ARC's training stances, stance accuracy 0.62: 0.025).
  Each data config carries its corpus's threshold (``data.relatedness_threshold``: FNC-1 0.07, ARC 0.025);
  ``fnc.relatedness_threshold`` overrides it (:func:`gate_threshold`).
  The vectoriser (English stop words, sublinear tf) is fitted on the evaluated set's own bodies and
  headlines, without labels.
* ``unrelated_rule=neutral``: our ``neutral`` means ``unrelated`` and ``discuss`` is never predicted, for
  a model that was trained with ``unrelated -> neutral`` and no other relatedness signal.

Reported per set: the official FNC-1 weighted score (+0.25 for a correct related/unrelated decision, +0.75
more for the exact label of a related pair), raw and as % of the best possible score, as the FNC-1 scorer
prints it; per-class F1 and their macro average over the four classes (F1m), which Hanselowski et al. (2018)
recommend because the weighted score rewards a system that ignores ``disagree``; the related/unrelated
split; and our three-label metrics on the gold-related pairs only (agree/disagree/discuss as
support/contradict/neutral, the stance question with relatedness given).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from ..data.adapters import resolve_path, source_name
from ..data.errors import RowErrors
from ..data.readers import iter_csv
from ..eval.metrics import compute_metrics
from ..eval.report import markdown_confusion_matrix
from ..labels import LABEL2ID, LABELS, Pair
from .aggregate import DocumentResult, predict_documents

log = logging.getLogger(__name__)

FNC_LABELS: tuple[str, ...] = ("agree", "disagree", "discuss", "unrelated")
RELATED = frozenset(FNC_LABELS[:3])
OURS_TO_FNC = {"support": "agree", "contradict": "disagree", "neutral": "discuss"}
FNC_TO_OURS = {v: k for k, v in OURS_TO_FNC.items()}
UNRELATED_RULES = ("lexical", "neutral")


# ------------------------------------------------------------------------------------------- scores
def fnc_score(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """The official FNC-1 weighted score (fnc-1 ``scorer.py``): raw, its maximum, and percent of the maximum.

    Per pair: +0.25 when gold and prediction agree on related vs unrelated; +0.75 more when a related pair
    gets its exact label. So an unrelated pair is worth 0.25 and a related one 1.0.
    """
    _check_fnc_labels(gold, "gold")
    _check_fnc_labels(predicted, "predicted")
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    raw = best = 0.0
    for g, p in zip(gold, predicted):
        if g == p:
            raw += 0.25
            if g != "unrelated":
                raw += 0.50
        if g in RELATED and p in RELATED:
            raw += 0.25
        best += 1.0 if g in RELATED else 0.25
    return {"raw": raw, "max": best, "percent": 100.0 * raw / best if best else 0.0}


def _check_fnc_labels(labels: Sequence[str], what: str) -> None:
    unknown = sorted(set(labels) - set(FNC_LABELS))
    if unknown:
        raise ValueError(f"{what} labels {unknown} are not FNC-1 labels {list(FNC_LABELS)}")


def to_fnc_labels(
    predicted: Sequence[int], relatedness: Sequence[float] | None, rule: str, threshold: float
) -> list[str]:
    """Four-way FNC labels from our label ids, by ``rule`` (see the module doc)."""
    if rule not in UNRELATED_RULES:
        raise ValueError(f"fnc.unrelated_rule must be one of {list(UNRELATED_RULES)}, not {rule!r}")
    ours = [LABELS[int(i)] for i in predicted]
    if rule == "neutral":
        return ["unrelated" if lab == "neutral" else OURS_TO_FNC[lab] for lab in ours]
    if relatedness is None or len(relatedness) != len(ours):
        raise ValueError("unrelated_rule=lexical needs one relatedness score per pair")
    return ["unrelated" if r < threshold else OURS_TO_FNC[lab] for lab, r in zip(ours, relatedness)]


def lexical_relatedness(claims: Sequence[str], documents: Sequence[str]) -> np.ndarray:
    """TF-IDF cosine of each claim with its whole document; the vectoriser is fitted on the distinct texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    vectorizer.fit(list(dict.fromkeys(documents)) + list(dict.fromkeys(claims)))
    doc_index = {d: i for i, d in enumerate(dict.fromkeys(documents))}
    doc_matrix = vectorizer.transform(list(doc_index))
    claim_matrix = vectorizer.transform(list(claims))
    rows = doc_matrix[[doc_index[d] for d in documents]]
    # Rows are L2-normalised, so the row-wise dot product is the cosine.
    return np.asarray(claim_matrix.multiply(rows).sum(axis=1)).ravel()


def gate_threshold(fnc: Any, data: Any) -> float:
    """The lexical gate's threshold for an evaluation: ``fnc.relatedness_threshold`` when set, else the
    corpus's own ``data.relatedness_threshold`` (FNC-1 0.07, ARC 0.025: configs/data/*.yaml)."""
    chosen = fnc.relatedness_threshold
    return float(data.relatedness_threshold if chosen is None else chosen)


def choose_relatedness_threshold(
    relatedness: Sequence[float],
    related: Sequence[bool],
    stance_accuracy: float,
    thresholds: Sequence[float] = tuple(np.round(np.arange(0.0, 0.2001, 0.005), 3)),
) -> tuple[float, list[dict[str, float]]]:
    """The lexical gate's threshold for a corpus, chosen on labelled pairs outside its test split (for ARC, its
    training stances): the one with the highest expected FNC-1 score, and every candidate's row.

    A gated unrelated pair earns 0.25; a related pair that passes earns 0.25 and, when the stance stage is
    right (``stance_accuracy`` of the time, e.g. its accuracy on validation), 0.75 more; a gated related pair
    or a passed unrelated one earns nothing. Ties go to the lower threshold.
    """
    r, rel = np.asarray(relatedness, dtype=float), np.asarray(related, dtype=bool)
    if r.shape != rel.shape or not len(r):
        raise ValueError(f"relatedness and related need the same, non-zero length, not {r.shape} and {rel.shape}")
    if not 0.0 <= stance_accuracy <= 1.0:
        raise ValueError(f"stance_accuracy must lie in [0, 1], not {stance_accuracy}")
    if not len(thresholds):
        raise ValueError("no thresholds to choose from")
    rows = []
    for t in thresholds:
        passed = r >= t
        score = 0.25 * np.sum(~passed & ~rel) + (0.25 + 0.75 * stance_accuracy) * np.sum(passed & rel)
        rows.append(
            {
                "threshold": float(t),
                "expected_score": float(score),
                "related_passed": float(np.mean(passed[rel])) if rel.any() else 0.0,
                "unrelated_passed": float(np.mean(passed[~rel])) if (~rel).any() else 0.0,
                "relatedness_accuracy": float(np.mean(passed == rel)),
            }
        )
    # Rounded so that scores equal in exact arithmetic tie, and the lower threshold wins.
    best = max(rows, key=lambda row: (round(row["expected_score"], 9), -row["threshold"]))
    return best["threshold"], rows


def _prf(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, dict]:
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=list(labels), zero_division=0
    )
    return {
        lab: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for lab, p, r, f, s in zip(labels, precision, recall, f1, support)
    }


def fnc_metrics(gold: Sequence[str], predicted: Sequence[str], predicted_ours: Sequence[int]) -> dict[str, Any]:
    """The FNC block of one set: weighted score, four-way per-class F1 and F1m, relatedness, related-only.

    ``gold``/``predicted`` are FNC labels; ``predicted_ours`` our label ids (for the related-only metrics,
    which do not depend on the unrelated rule).
    """
    score = fnc_score(gold, predicted)
    per_class = _prf(gold, predicted, FNC_LABELS)
    present = [lab for lab in FNC_LABELS if per_class[lab]["support"]]
    gold_rel = ["related" if g in RELATED else "unrelated" for g in gold]
    pred_rel = ["related" if p in RELATED else "unrelated" for p in predicted]
    split = _prf(gold_rel, pred_rel, ("related", "unrelated"))
    related_idx = [i for i, g in enumerate(gold) if g in RELATED]
    block: dict[str, Any] = {
        "n": len(gold),
        "score": score,
        # The floor every system is compared with: all pairs unrelated.
        "all_unrelated_percent": fnc_score(gold, ["unrelated"] * len(gold))["percent"],
        "macro_f1": float(np.mean([per_class[lab]["f1"] for lab in present])) if present else 0.0,
        "labels_scored": present,
        "per_class": per_class,
        "confusion_matrix": {
            "labels": list(FNC_LABELS),
            "matrix": confusion_matrix(gold, predicted, labels=list(FNC_LABELS)).tolist(),
        },
        "relatedness": {
            "accuracy": float(np.mean([g == p for g, p in zip(gold_rel, pred_rel)])) if gold else 0.0,
            **split,
        },
    }
    if related_idx:
        block["related_only"] = compute_metrics(
            [LABEL2ID[FNC_TO_OURS[gold[i]]] for i in related_idx], [int(predicted_ours[i]) for i in related_idx]
        )
    return block


# ------------------------------------------------------------------------------------------- gold stances
def read_stances(src: Any, root: Path) -> dict[str, str]:
    """The original four-way stance of every row of a ``stance_bodies`` source, by the pair id its reader gives.

    The data pipeline maps stances to our labels on reading (``unrelated`` and ``discuss`` both become
    ``neutral``), so the FNC view reads the stance column again. Ids follow ``read_stance_bodies``:
    ``<source name>:<file name>:<line>``.
    """
    stances = {}
    # Bad rows were reported (or skipped, with on_error=skip) when the pairs were read; here they are passed
    # over, and a pair without a stance is caught by the id lookup in gold_stances.
    errors = RowErrors("skip", source_name(src))
    for name in src.files:
        path = resolve_path(name, root)
        for line, record in iter_csv(path, ",", errors):
            stances[f"{source_name(src)}:{path.name}:{line}"] = str(record.get(src.label_column, "")).strip()
    return stances


def gold_stances(sources: Sequence[Any], root: Path, ids: Sequence[str]) -> list[str] | None:
    """Four-way gold labels for a test set's ids, or ``None`` when its sources are not FNC-style."""
    if not sources or any(src.adapter != "stance_bodies" or src.hub_id for src in sources):
        return None
    stances: dict[str, str] = {}
    for src in sources:
        stances.update(read_stances(src, root))
    missing = [i for i in ids if i not in stances]
    if missing:
        raise ValueError(f"no FNC stance for pair id {missing[0]!r} ({len(missing)} in all)")
    gold = [stances[i] for i in ids]
    _check_fnc_labels(gold, f"stances of {source_name(sources[0])}")
    return gold


# ------------------------------------------------------------------------------------------- report
def render_fnc_section(blocks: Mapping[str, dict], rule: str, threshold: float) -> str:
    """Markdown for report.md: one row per FNC-style set, then per-class F1 and the 4x4 confusion matrix."""
    how = f"headline-body TF-IDF cosine < {threshold:g}" if rule == "lexical" else "our `neutral` (never `discuss`)"
    lines = [
        "## FNC-1 view (four labels)",
        "",
        f"`unrelated` = {how}; otherwise support/contradict/neutral = agree/disagree/discuss. FNC score: the "
        "official weighted score, raw and as % of the maximum (all-unrelated floor in brackets). F1m: macro-F1 "
        "over the four classes (Hanselowski et al., 2018). Related-only: our three labels on gold-related pairs.",
        "",
        "| set | n | FNC score | FNC % (floor) | F1m | F1 agree | F1 disagree | F1 discuss | F1 unrelated "
        "| related/unrelated acc | related-only macro-F1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, b in blocks.items():
        f1 = {lab: b["per_class"][lab]["f1"] for lab in FNC_LABELS}
        related_only = b.get("related_only", {}).get("macro_f1", float("nan"))
        lines.append(
            f"| {name} | {b['n']} | {b['score']['raw']:.2f} / {b['score']['max']:.2f} | {b['score']['percent']:.2f} "
            f"({b['all_unrelated_percent']:.2f}) | {b['macro_f1']:.4f} | "
            + " | ".join(f"{f1[lab]:.4f}" for lab in FNC_LABELS)
            + f" | {b['relatedness']['accuracy']:.4f} | {related_only:.4f} |"
        )
    lines.append("")
    gated = {name: b["gated"] for name, b in blocks.items() if "gated" in b}
    if gated:
        counts = ", ".join(f"{name} {n}" for name, n in gated.items())
        lines += [
            f"Relatedness gate (`fnc.gate`): pairs below the threshold were not scored ({counts}); they are "
            "`neutral` with probability 1 in the three-label report above, which also sets its ECE and NLL.",
            "",
        ]
    for name, b in blocks.items():
        lines += [f"### {name}: FNC-1 confusion matrix (rows gold, columns predicted)", ""]
        lines += markdown_confusion_matrix(FNC_LABELS, b["confusion_matrix"]["matrix"]) + [""]
    return "\n".join(lines)


def fnc_table(blocks: Mapping[str, dict]) -> str:
    """A short fixed-width table for the terminal."""
    width = max([len(n) for n in blocks] + [8])
    lines = [f"{'set':<{width}}  {'FNC %':>7}  {'F1m':>6}  {'rel acc':>7}"]
    for name, b in blocks.items():
        lines.append(
            f"{name:<{width}}  {b['score']['percent']:>7.2f}  {b['macro_f1']:>6.4f}  "
            f"{b['relatedness']['accuracy']:>7.4f}"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- mode=document
class DocumentLogProbs:
    """Document-wise log-probabilities in the shape of ``predict_logits`` (what evaluate_sets calls), keeping
    every call's document results for the FNC view and ``documents.jsonl``.

    evaluate_sets predicts its sets in order, one call each, so call ``i`` belongs to the ``i``-th set.
    With ``gate`` (a relatedness threshold), pairs whose headline-body TF-IDF cosine is below it never reach
    the model: the lexical rule calls them ``unrelated`` whatever the model says, so scoring their ~30
    sentences and windows each would change no FNC label. They get a ``neutral`` result (``unrelated``'s
    three-label mapping) with no evidence, and ``gated`` lists them per call.
    """

    def __init__(self, scorer: Any, options: Any, gate: float | None = None, gates: Sequence[float | None] = ()):
        # ``gates[i]`` overrides ``gate`` for the i-th call (set): sets without an FNC view are never gated.
        self.scorer, self.options, self.gate, self.gates = scorer, options, gate, list(gates)
        self.calls: list[list] = []
        self.relatedness: list[np.ndarray | None] = []
        self.gated: list[set[int]] = []

    def __call__(self, pairs: Sequence[Pair]) -> np.ndarray:
        items = [(h, p) for p, h in pairs]
        call = len(self.calls)
        gate = self.gates[call] if call < len(self.gates) else self.gate
        relatedness = None
        keep = list(range(len(items)))
        if gate is not None:
            relatedness = lexical_relatedness([c for c, _ in items], [d for _, d in items])
            keep = [i for i in keep if relatedness[i] >= gate]
        scored = predict_documents(self.scorer, [items[i] for i in keep], self.options, progress=True)
        neutral = {lab: float(lab == "neutral") for lab in LABELS}
        results = [DocumentResult(label="neutral", probabilities=dict(neutral)) for _ in items]
        for i, result in zip(keep, scored):
            results[i] = result
        self.calls.append(results)
        self.relatedness.append(relatedness)
        self.gated.append(set(range(len(items))) - set(keep))
        if gate is not None:
            log.info(
                "relatedness gate: %d of %d pairs below %.3f were not scored", len(items) - len(keep), len(items), gate
            )
        probs = np.array([[r.probabilities[lab] for lab in LABELS] for r in results], dtype=np.float64)
        # Log-probabilities are logits whose softmax gives back these probabilities.
        return np.log(np.clip(probs.reshape(-1, len(LABELS)), 1e-12, 1.0))


def fnc_blocks_of(sets: Mapping[str, Mapping[str, Any]]) -> dict[str, dict]:
    """The FNC blocks of the sets that have one (``{set name: block}``, as evaluate_sets returns)."""
    return {name: b["fnc"] for name, b in sets.items() if "fnc" in b}
