"""Library side of ``scripts/evaluate.py``: a saved model scored on labelled sets, pair by pair
(``mode=pairs``) or document by document with the FNC-1 view (``mode=document``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
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
    gate_threshold,
    gold_stances,
    lexical_relatedness,
    render_fnc_section,
    to_fnc_labels,
)
from ..eval.report import predict_sets, score_sets, write_results
from ..labels import LABEL2ID, LABELS
from ..version import source_commit
from .common import Report, capability_suite, collect_test_sets, load_classifier, truncation_note, write_report

log = logging.getLogger(__name__)


def evaluate_model(cfg: DictConfig) -> Report:
    """Evaluate ``cfg.model_dir`` on the test sources of ``cfg.data`` and ``cfg.sets`` (and the capability
    suite when ``cfg.suite=capabilities``); write one report to the run folder."""
    commit = source_commit()  # at the start, as training does: the tree may change while a long evaluation runs
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
        commit=commit,
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
    commit = source_commit()
    options = resolve_options(cfg.document)
    rule, threshold = cfg.fnc.unrelated_rule, gate_threshold(cfg.fnc, cfg.data)
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
    fnc_views: list[tuple[list[str] | None, list[str] | None, Any]] = []  # per set: gold, prediction, relatedness
    for (name, dataset), results, relatedness, gated in zip(
        splits.test.items(), scorer.calls, scorer.relatedness, scorer.gated
    ):
        gold4, pred4 = golds[name], None
        if gold4 is not None:
            predicted = [LABEL2ID[r.label] for r in results]
            if relatedness is None and rule == "lexical":
                relatedness = lexical_relatedness(list(dataset["hypothesis"]), list(dataset["premise"]))
            pred4 = to_fnc_labels(predicted, relatedness, rule, threshold)
            fnc_blocks[name] = fnc_metrics(gold4, pred4, predicted)
            if relatedness is not None and gate is not None:
                fnc_blocks[name]["gated"] = len(gated)
            sets[name]["fnc"] = fnc_blocks[name]
        fnc_views.append((gold4, pred4, relatedness))

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
        commit=commit,
    )
    # Streamed: one record at a time, so the file costs no second copy of every document's evidence.
    write_jsonl(out / "documents.jsonl", _document_records(splits.test, scorer, fnc_views, gate is not None))
    return Report(out, sets)


def _document_records(
    sets: dict, scorer: DocumentLogProbs, fnc_views: list[tuple[Any, Any, Any]], gated_view: bool
) -> Iterator[dict[str, Any]]:
    """``documents.jsonl``'s records, set by set: claim, gold, the document result and, for an FNC set, its
    four-label gold and prediction (with the relatedness, and whether the lexical gate held the pair back)."""
    for (name, dataset), results, gated, (gold4, pred4, relatedness) in zip(
        sets.items(), scorer.calls, scorer.gated, fnc_views
    ):
        for i, (row, result) in enumerate(zip(dataset.select_columns(["id", "hypothesis", "label"]), results)):
            record = {"set": name, "id": row["id"], "claim": row["hypothesis"], "gold": LABELS[row["label"]]}
            record.update(result.to_dict())
            if gold4 is not None:
                if gated_view:
                    record["gated"] = i in gated
                record.update(fnc_gold=gold4[i], fnc_prediction=pred4[i])
                if relatedness is not None:
                    record["relatedness"] = round(float(relatedness[i]), 6)
            yield record
