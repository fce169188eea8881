"""Library side of ``scripts/evaluate.py``: a saved model scored on labelled sets, pair by pair
(``mode=pairs``) or document by document with the FNC-1 view (``mode=document``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from ..artifacts import write_jsonl
from ..data import apply_document_input, build_splits, source_name, write_skipped_rows
from ..document.aggregate import resolve_options
from ..document.fnc import (
    UNRELATED_RULES,
    DocumentLogProbs,
    fnc_metrics,
    gold_stances,
    lexical_relatedness,
    render_fnc_section,
    to_fnc_labels,
)
from ..eval.report import predict_sets, score_sets, write_results
from ..labels import LABEL2ID, LABELS
from .common import Report, capability_suite, collect_test_sets, load_classifier, truncation_note, write_report

log = logging.getLogger(__name__)


def evaluate_model(cfg: DictConfig) -> Report:
    """Evaluate ``cfg.model_dir`` on the test sources of ``cfg.data`` and ``cfg.sets`` (and the capability
    suite when ``cfg.suite=capabilities``); write one report to the run folder."""
    splits, title = collect_test_sets(cfg)
    splits = apply_document_input(splits, cfg.data)  # the same document input the model was trained with
    if not splits.test and not cfg.suite:
        raise ValueError(
            f"nothing to evaluate: data config {cfg.data.name!r} has no test data (set data.test_file, data.test "
            "or sets=[...]) and no suite is set (suite=capabilities)"
        )
    write_skipped_rows(splits.skipped_rows, cfg.paths.output_dir)
    classifier = load_classifier(cfg)
    note = truncation_note(classifier, splits.test)
    suite = capability_suite(cfg.suite, lambda pairs: classifier.predict_proba(pairs, allow_empty_premise=True))
    return write_report(
        cfg,
        classifier.predict_logits,
        splits.test,
        title=f"stancekit evaluation: {title or cfg.suite}",
        context=f"Model `{cfg.model_dir}`; temperature {classifier.temperature:.3f}.{note}",
        temperature=classifier.temperature,
        capabilities=suite,
    )


def evaluate_documents(cfg: DictConfig) -> Report:
    """``scripts/evaluate.py mode=document``: document-level evaluation of ``cfg.model_dir`` on ``cfg.data``.

    Writes the three-label report (``unrelated`` mapped by the data config) with, for each FNC-style set,
    an ``fnc`` block in its metrics and an FNC-1 section in report.md, plus ``documents.jsonl`` (per pair:
    claim, gold, prediction, probabilities, evidence, FNC labels). Everything is scored before anything
    is written, and each file is written once, atomically.
    """
    if getattr(cfg.data, "document_input", "truncated") != "truncated":
        raise ValueError(
            "mode=document feeds documents as document.input says (sentences, truncated, selected_sentences); "
            "data.document_input is for training and mode=pairs, so leave it at truncated here"
        )
    options = resolve_options(cfg.document)
    rule, threshold = cfg.fnc.unrelated_rule, float(cfg.fnc.relatedness_threshold)
    if rule not in UNRELATED_RULES:
        raise ValueError(f"fnc.unrelated_rule must be one of {list(UNRELATED_RULES)}, not {rule!r}")
    root = Path(cfg.paths.data_root).expanduser()
    splits = build_splits(cfg.data, root, ("test",))
    if not splits.test:
        raise ValueError(f"data config {cfg.data.name!r} has no test data (set data.test_file or data.test)")
    out = Path(cfg.paths.output_dir)
    write_skipped_rows(splits.skipped_rows, out)  # with data.on_error=skip, as mode=pairs
    classifier = load_classifier(cfg)
    sources: dict[str, list] = {}
    for src in cfg.data.test:
        sources.setdefault(source_name(src), []).append(src)
    # FNC gold labels per set (None for sets without an FNC view); read once, used to gate and to score.
    golds = {name: gold_stances(sources.get(name, []), root, list(ds["id"])) for name, ds in splits.test.items()}
    gate = threshold if rule == "lexical" and cfg.fnc.gate else None
    scorer = DocumentLogProbs(
        classifier.predict_proba, options, gates=[gate if gold is not None else None for gold in golds.values()]
    )
    logits = predict_sets(scorer, splits.test)
    if len(scorer.calls) != len(splits.test):  # calls are matched to sets by position below
        raise RuntimeError(f"expected one prediction call per test set, got {len(scorer.calls)}")
    sets = score_sets(logits, splits.test)

    fnc_blocks: dict[str, dict] = {}
    records: list[dict[str, Any]] = []
    for (name, dataset), results, relatedness, gated in zip(
        splits.test.items(), scorer.calls, scorer.relatedness, scorer.gated
    ):
        ids, claims, documents = list(dataset["id"]), list(dataset["hypothesis"]), list(dataset["premise"])
        predicted = [LABEL2ID[r.label] for r in results]
        gold4 = golds[name]
        pred4 = None
        if gold4 is not None:
            if relatedness is None and rule == "lexical":
                relatedness = lexical_relatedness(claims, documents)
            pred4 = to_fnc_labels(predicted, relatedness, rule, threshold)
            fnc_blocks[name] = fnc_metrics(gold4, pred4, predicted)
            if relatedness is not None and gate is not None:
                fnc_blocks[name]["gated"] = len(gated)
            sets[name]["fnc"] = fnc_blocks[name]
        for i, (result, label) in enumerate(zip(results, list(dataset["label"]))):
            record = {"set": name, "id": ids[i], "claim": claims[i], "gold": LABELS[label], **result.to_dict()}
            if gold4 is not None and gate is not None:
                record["gated"] = i in gated
            if gold4 is not None:
                record.update(fnc_gold=gold4[i], fnc_prediction=pred4[i])
                if relatedness is not None:
                    record["relatedness"] = round(float(relatedness[i]), 6)
            records.append(record)

    how = (
        options.input
        if options.input != "sentences"
        else f"sentences, windows {options.window_sizes}, {options.aggregation} (threshold {options.threshold})"
    )
    write_results(
        out,
        splits.test,
        logits,
        sets,
        title=f"stancekit document-level evaluation: {cfg.data.name}",
        context=f"Model `{cfg.model_dir}`; claim = hypothesis, document = premise; document input: {how}.",
        sections=[render_fnc_section(fnc_blocks, rule, threshold)] if fnc_blocks else [],
    )
    write_jsonl(out / "documents.jsonl", records)
    return Report(out, sets)
