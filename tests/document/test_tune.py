"""Tuning document aggregation: one scoring for the whole grid, the ranking, and the validation split only."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib

import numpy as np
import pytest

from stancekit.config import PROJECT_ROOT, DocumentConfig, FncConfig
from stancekit.data import build_splits
from stancekit.document import predict_documents
from stancekit.document.fnc import fnc_metrics, lexical_relatedness, to_fnc_labels
from stancekit.document.tune import Option, evaluate_overrides, option_grid, tune_documents
from stancekit.labels import LABEL2ID
from stancekit.runs import tune_document_options
from tests.helpers import FIXTURE_ROOT, compose_config

CLAIM = "The bridge reopens in May"
# Two agree, one disagree, one discuss, one unrelated (no word in common with the claim: below the gate).
ITEMS = [
    (CLAIM, "Officials confirmed the bridge reopens in May. Traffic on the bridge was light."),
    (CLAIM, "The mayor confirmed the bridge reopens in May. Drivers on the bridge were pleased."),
    (CLAIM, "The ministry denied the bridge reopens in May. The bridge stays shut for now."),
    (CLAIM, "An engineer suggested the bridge reopens in May. Work on the bridge goes on."),
    (CLAIM, "A comet was seen over the northern hills, astronomers said."),
]
GOLD = ["agree", "agree", "disagree", "discuss", "unrelated"]


class KeywordScorer:
    """support 0.9 on "confirmed", contradict 0.7 on "denied", a weak support 0.6 on "suggested", else
    neutral 0.8; counts its calls and keeps every premise it saw."""

    def __init__(self):
        self.calls, self.premises = 0, []

    def __call__(self, pairs):
        self.calls += 1
        rows = []
        for premise, _ in pairs:
            self.premises.append(premise)
            if "confirmed" in premise:
                rows.append([0.9, 0.05, 0.05])
            elif "denied" in premise:
                rows.append([0.1, 0.7, 0.2])
            elif "suggested" in premise:
                rows.append([0.6, 0.1, 0.3])
            else:
                rows.append([0.1, 0.1, 0.8])
        return np.array(rows)


def test_the_best_option_is_the_one_computed_by_hand():
    # max_evidence: a document is agree/disagree when its strongest unit reaches t. At 0.8 the disagree
    # document (0.7) becomes discuss; at 0.5 the discuss one (0.6) becomes agree; at 0.65 all four are
    # right. mean: the disagree document averages to contradict 0.4 < neutral 0.5, so discuss.
    grid = option_grid(["max_evidence", "mean"], [0.8, 0.5, 0.65], [3], [[1]])
    assert grid == [Option((1,), "max_evidence", t) for t in (0.8, 0.5, 0.65)] + [Option((1,), "mean")]
    tuning = tune_documents(KeywordScorer(), ITEMS, GOLD, grid)
    assert tuning.best == Option((1,), "max_evidence", 0.65)
    best = tuning.rows[0]
    assert best["fnc_raw"] == best["fnc_max"] == 4.25 and best["fnc_percent"] == 100.0 and best["macro_f1"] == 1.0
    # One related pair wrong (0.25 instead of 1.0) for each of the others: FNC 3.5 / 4.25 alike. F1m decides:
    # t=0.5 (discuss never predicted): (0.8 + 1 + 0 + 1) / 4; t=0.8 and mean predict alike:
    # (1 + 0 + 2/3 + 1) / 4, and then grid order puts 0.8 first.
    assert [(r["aggregation"], r["threshold"]) for r in tuning.rows] == [
        ("max_evidence", 0.65),
        ("max_evidence", 0.5),
        ("max_evidence", 0.8),
        ("mean", None),
    ]
    assert all(r["fnc_raw"] == 3.5 for r in tuning.rows[1:])
    assert tuning.rows[1]["macro_f1"] == pytest.approx(0.7)
    assert tuning.rows[2]["macro_f1"] == pytest.approx((2 + 2 / 3) / 4) == tuning.rows[3]["macro_f1"]
    assert tuning.rows[1]["f1"] == pytest.approx({"agree": 0.8, "disagree": 1.0, "discuss": 0.0, "unrelated": 1.0})
    assert [r["rank"] for r in tuning.rows] == [1, 2, 3, 4]
    assert tuning.best_per_aggregation["mean"]["rank"] == 4
    assert tuning.best_fnc["score"]["percent"] == 100.0

    # Without 0.65, F1m (not grid order, which lists 0.8 first) breaks the tie in favour of 0.5.
    tuning = tune_documents(KeywordScorer(), ITEMS, GOLD, option_grid(["max_evidence"], [0.8, 0.5], [3], [[1]]))
    assert tuning.best == Option((1,), "max_evidence", 0.5)


def test_the_scorer_is_called_once_for_the_whole_grid_and_never_on_gated_pairs():
    scorer = KeywordScorer()
    grid = option_grid(["max_evidence", "top_k_mean", "mean"], [0.3, 0.5, 0.7, 0.9], [2, 3], [[1], [1, 2], [2]])
    assert len(grid) == 3 * (4 + 4 * 2 + 1)
    tuning = tune_documents(scorer, ITEMS, GOLD, grid)
    assert scorer.calls == tuning.scorer_calls == 1 and len(tuning.rows) == len(grid)
    assert tuning.n_pairs == 5 and tuning.n_scored == 4 and tuning.n_gated == 1
    assert not any("comet" in p for p in scorer.premises)  # the unrelated body never reached the model
    # Two sentences per document: [1] has 2 units, [2] one, [1, 2] all three.
    assert tuning.units == {"[1]": 8, "[1,2]": 12, "[2]": 4} and tuning.scored_pairs == 12
    # One call per chunk_size documents, however many options.
    scorer = KeywordScorer()
    tune_documents(scorer, ITEMS, GOLD, grid, DocumentConfig(chunk_size=3))
    assert scorer.calls == 2


def hashed_scorer(pairs):
    """Varied, deterministic probabilities per premise text, so every option predicts differently."""
    return np.array([np.random.default_rng(zlib.crc32(p.encode())).dirichlet([0.6] * 3) for p, _ in pairs])


def test_each_option_scores_as_predict_documents_with_it_would():
    """The cached unit probabilities (the union of the window sets, picked out per set) give exactly what
    scoring with each option's own window set gives, through the same FNC mapping as evaluate."""
    body = (
        "The bridge reopens in May, a source said. Officials confirmed it on Monday. "
        "MIKHAIL METZEL/Getty Images. The bridge was built in 1920. Its repairs cost more than planned. "
        "Traffic will return in May."
    )
    claims = ["The bridge reopens in May", "The bridge repairs cost more", "Bridge traffic returns", "The comet"]
    items = [(c, body) for c in claims] + [(CLAIM, ITEMS[2][1])]
    gold = ["agree", "disagree", "discuss", "unrelated", "disagree"]
    base = DocumentConfig(min_claim_overlap=1)
    grid = option_grid(["max_evidence", "top_k_mean", "mean"], [0.3, 0.5, 0.6], [2, 4], [[1], [1, 2], [1, 2, 3]])
    tuning = tune_documents(hashed_scorer, items, gold, grid, base)
    relatedness = lexical_relatedness([c for c, _ in items], [d for _, d in items])
    by_option = {(tuple(r["window_sizes"]), r["aggregation"], r["threshold"], r["top_k"]): r for r in tuning.rows}
    for option in grid:
        results = predict_documents(hashed_scorer, items, option.config(base))
        predicted = [LABEL2ID[r.label] if rel >= 0.07 else LABEL2ID["neutral"] for r, rel in zip(results, relatedness)]
        block = fnc_metrics(gold, to_fnc_labels(predicted, relatedness, "lexical", 0.07), predicted)
        row = by_option[(option.window_sizes, option.aggregation, option.threshold, option.top_k)]
        assert row["fnc_raw"] == block["score"]["raw"] and row["macro_f1"] == pytest.approx(block["macro_f1"])
    assert len({(r["fnc_raw"], round(r["macro_f1"], 6)) for r in tuning.rows}) > 1  # the grid is not degenerate


def test_grid_and_overrides():
    with pytest.raises(ValueError, match="threshold"):
        option_grid(["max_evidence"], [1.5], [3], [[1]])
    with pytest.raises(ValueError, match="aggregation"):
        option_grid(["median"], [0.5], [3], [[1]])
    with pytest.raises(ValueError, match="empty"):
        option_grid(["mean"], [0.5], [3], [])
    # [2, 1] is the window set [1, 2]; mean has one option per window set.
    assert option_grid(["mean"], [0.5, 0.7], [2, 3], [[1, 2], [2, 1]]) == [Option((1, 2), "mean")]
    option = Option((1, 2), "top_k_mean", 0.7, 2)
    assert option.overrides() == [
        "document.aggregation=top_k_mean",
        "document.threshold=0.7",
        "document.top_k=2",
        "document.window_sizes=[1,2]",
    ]
    # The run's other non-default options go along, so evaluate predicts as the tuning did.
    base = DocumentConfig(min_claim_overlap=2, skip_boilerplate=False)
    fnc = FncConfig(relatedness_threshold=0.05)
    assert evaluate_overrides(Option((1,), "mean"), base, fnc) == [
        "document.aggregation=mean",
        "document.window_sizes=[1]",
        "document.skip_boilerplate=false",
        "document.min_claim_overlap=2",
        "fnc.relatedness_threshold=0.05",
    ]


# --------------------------------------------------------------------------------------- the run, on FNC-1
MISSING_TEST = ["data.test.0.files=[fnc1/no_such_test_stances.csv]", "data.test.0.bodies_file=fnc1/no_such_bodies.csv"]


def test_the_run_reads_the_validation_split_only(stance_model_dir, tmp_path):
    overrides = [f"model_dir={stance_model_dir}", f"paths.data_root={FIXTURE_ROOT}", *MISSING_TEST]
    cfg = compose_config("tune_document", [*overrides, f"paths.output_dir={tmp_path}", "device=cpu"])
    # Building validation the ordinary way reads the test sources (the leakage guard) and fails here...
    with pytest.raises(Exception, match="no_such"):
        build_splits(cfg.data, FIXTURE_ROOT, ("validation",))
    # ... the tuning run does not read them.
    report = tune_document_options(cfg)
    record = json.loads((tmp_path / "tuning.json").read_text())
    assert record["split"] == "validation" and record["test_split_read"] is False
    assert record["sources"] == ["fnc1_holdout"]
    # The hold-out body 11: one agree pair and one unrelated (kept: keep_unrelated), which the gate holds back.
    assert record["n_pairs"] == 2 and record["n_scored"] == 1 and record["scorer_calls"] == 1
    assert len(record["rows"]) == 2 * (14 + 14 * 3 + 1) and record["best"] == report.tuning.rows[0]
    assert record["command"][:4] == ["python", "scripts/evaluate.py", "mode=document", "data=fnc1"]
    assert record["overrides"] == report.overrides and report.overrides[0].startswith("document.aggregation=")
    # The gate's threshold (data=fnc1's own) is recorded and pinned in the command that reuses the tuning.
    assert record["relatedness_threshold"] == 0.07 and report.overrides[-1] == "fnc.relatedness_threshold=0.07"
    assert record["fnc"]["relatedness_threshold"] is None  # recorded once: the config left it to the corpus
    md = (tmp_path / "tuning.md").read_text()
    assert "the test split was not read" in md and "## Every option (114)" in md and "FNC-1 view" in md
    assert "'document.window_sizes=[" in md  # quoted for the shell

    cfg.keep_unrelated = False  # the split exactly as the data config defines it: related pairs only
    cfg.max_documents = 1
    assert tune_document_options(cfg).tuning.n_pairs == 1


def test_the_script_end_to_end(stance_model_dir, tmp_path):
    args = [
        f"model_dir={stance_model_dir}",
        f"paths.data_root={FIXTURE_ROOT}",
        f"hydra.run.dir={tmp_path}",
        "device=cpu",
        "precision=fp32",
        "aggregations=[max_evidence,top_k_mean]",
        "thresholds=[0.4,0.6]",
        "window_sizes=[[1],[1,2]]",
        *MISSING_TEST,
    ]
    done = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "tune_document.py"), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "the test split was not read" in done.stdout and "scripts/evaluate.py mode=document" in done.stdout
    record = json.loads((tmp_path / "tuning.json").read_text())
    assert len(record["rows"]) == 2 * (2 + 2 * 3) and record["scorer_calls"] == 1
    assert (tmp_path / "tuning.md").is_file()
