"""scripts/evaluate.py's library side: one report for several sets and the suite, partial label sets, skips,
mode=document."""

from __future__ import annotations

import json

import pytest

from stancekit import StanceClassifier
from stancekit.config import SourceConfig
from stancekit.data import SKIPPED_ROWS_FILE
from stancekit.document.fnc import fnc_score
from stancekit.labels import LABELS
from stancekit.models.encoding import TruncationWarning
from stancekit.runs import evaluate_documents, evaluate_model, predict_file
from stancekit.version import source_commit
from tests.helpers import FIXTURE_ROOT, GOOD, GOOD2, SAMPLE_DIR, compose_config, jline, with_, write_case


def test_evaluate_with_skip_writes_the_side_file_and_reports_truncation(stance_model_dir, tmp_path):
    data = write_case(
        tmp_path,
        "test.jsonl",
        jline(GOOD) + jline(with_(label="agree")) + jline({**GOOD2, "premise": "the council met again . " * 40}),
    )
    cfg = compose_config(
        "evaluate",
        [
            f"model_dir={stance_model_dir}",
            "data=jsonl",
            f"data.test_file={data}",
            "data.on_error=skip",
            f"paths.output_dir={tmp_path / 'ev'}",
            "device=cpu",
            "max_length=32",
        ],
    )
    with pytest.warns(TruncationWarning, match="1 of 2 pairs are longer than 32 tokens"):
        report = evaluate_model(cfg)
    assert report.sets["jsonl"]["n"] == 2
    skipped = [json.loads(r) for r in (tmp_path / "ev" / SKIPPED_ROWS_FILE).read_text().splitlines()]
    assert skipped[0]["line"] == 2 and skipped[0]["field"] == "label" and "agree" in skipped[0]["raw"]
    assert "1 pairs were longer than 32 tokens" in (tmp_path / "ev" / "report.md").read_text()


PAIRS = [
    ("The council approved the new budget on Monday.", "The budget was rejected."),
    ("Officials said the bridge will reopen in May after repairs.", "The bridge reopens in May."),
    ("The company reported higher profits.", "The chief executive plans to resign."),
]


def test_evaluate_several_sets_and_predict_file(trained_run, tmp_path):
    run_dir, _ = trained_run
    cfg = compose_config(
        "evaluate",
        [
            f"model_dir={run_dir / 'model'}",
            "data=jsonl",
            f"data.test_file={SAMPLE_DIR / 'test.jsonl'}",
            f"paths.output_dir={tmp_path / 'ev'}",
            "device=cpu",
        ],
    )
    report = evaluate_model(cfg)
    assert list(report.sets) == ["jsonl"] and report.sets["jsonl"]["n"] == 60
    assert report.out_dir == tmp_path / "ev" and (tmp_path / "ev" / "report.md").exists()
    # metrics.json keeps the source commit the predictions were made at (none outside a git checkout).
    recorded = {"commit": source_commit()} if source_commit() else {}
    assert json.loads((tmp_path / "ev" / "metrics.json").read_text()) == {"sets": report.sets} | recorded

    # Several test sets: one block per set, one report.
    cfg.data.test = [SourceConfig(adapter="jsonl", name="copy_a", files=[str(SAMPLE_DIR / "validation.jsonl")])]
    cfg.paths.output_dir = str(tmp_path / "ev2")
    sets = evaluate_model(cfg).sets
    assert list(sets) == ["jsonl", "copy_a"] and sets["copy_a"]["n"] == 60
    report = (tmp_path / "ev2" / "report.md").read_text()
    assert "| copy_a | 60 |" in report and "mean over sets" in report

    inp = tmp_path / "in.jsonl"
    inp.write_text(
        "\n".join(json.dumps({"id": i, "premise": p, "hypothesis": h}) for i, (p, h) in enumerate(PAIRS)) + "\n"
    )
    out = tmp_path / "out" / "pred.jsonl"
    cfg = compose_config(
        "predict",
        [
            f"model_dir={run_dir / 'model'}",
            f"input={inp}",
            f"output={out}",
            f"paths.output_dir={tmp_path}",
            "device=cpu",
        ],
    )
    assert predict_file(cfg) == 3
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [0, 1, 2]
    assert [r["prediction"] for r in rows] == StanceClassifier.from_pretrained(run_dir / "model").predict(PAIRS)
    assert set(rows[0]["probabilities"]) == set(LABELS)


def test_fever_style_two_label_set_is_scored_on_its_labels(trained_run, tmp_path):
    run_dir, _ = trained_run
    data = tmp_path / "two.jsonl"
    data.write_text(
        "\n".join(
            json.dumps({"premise": p, "hypothesis": h, "label": lab})
            for (p, h), lab in zip(PAIRS, ["contradict", "support", "support"])
        )
        + "\n"
    )
    cfg = compose_config(
        "evaluate",
        [
            f"model_dir={run_dir / 'model'}",
            "data=jsonl",
            f"data.test_file={data}",
            f"paths.output_dir={tmp_path / 'ev'}",
        ],
    )
    sets = evaluate_model(cfg).sets
    assert sets["jsonl"]["labels_scored"] == ["support", "contradict"]
    assert "macro-F1 averages over support, contradict only" in (tmp_path / "ev" / "report.md").read_text()


def test_one_report_for_several_sets_and_the_suite(calibrated_model, tmp_path):
    run_dir, _ = calibrated_model
    cfg = compose_config(
        "evaluate",
        [
            f"model_dir={run_dir / 'model'}",
            "data=jsonl",
            f"data.test_file={SAMPLE_DIR / 'test.jsonl'}",
            "sets=[sample]",
            "suite=capabilities",
            f"paths.output_dir={tmp_path}",
        ],
    )
    cfg.data.name = "sample_copy"
    result = evaluate_model(cfg)
    assert list(result.sets) == ["sample_copy", "sample"] and result.capabilities
    assert result.sets["sample"]["accuracy"] == pytest.approx(result.sets["sample_copy"]["accuracy"])
    report = (tmp_path / "report.md").read_text()
    assert "| sample_copy | 60 |" in report and "| sample | 60 |" in report and "mean over sets" in report
    assert all(lab in LABELS for lab in result.sets["sample"]["labels_scored"])

    # The suite alone, with no data set.
    cfg = compose_config(
        "evaluate",
        [f"model_dir={run_dir / 'model'}", "data=none", "suite=capabilities", f"paths.output_dir={tmp_path / 'suite'}"],
    )
    result = evaluate_model(cfg)
    assert result.sets == {} and set(result.capabilities) >= {"negation", "symmetry"}
    keys = {"sets", "capabilities"} | ({"commit"} if source_commit() else set())
    assert set(json.loads((tmp_path / "suite" / "metrics.json").read_text())) == keys


def test_unknown_set_name_is_a_clear_error(calibrated_model, tmp_path):
    run_dir, _ = calibrated_model
    cfg = compose_config("evaluate", [f"model_dir={run_dir / 'model'}", "sets=[snly]", f"paths.output_dir={tmp_path}"])
    with pytest.raises(ValueError, match="unknown data config 'snly'"):
        evaluate_model(cfg)


def test_evaluate_mode_document_on_the_fnc1_fixture(stance_model_dir, tmp_path):
    cfg = compose_config(
        "evaluate",
        [
            f"model_dir={stance_model_dir}",
            "mode=document",
            "data=fnc1",
            f"paths.data_root={FIXTURE_ROOT}",
            f"paths.output_dir={tmp_path}",
            "device=cpu",
        ],
    )
    sets = evaluate_documents(cfg).sets
    block = sets["fnc1_competition_test"]["fnc"]
    assert block["n"] == 4 and block["score"]["max"] == 3.25
    records = [json.loads(line) for line in (tmp_path / "documents.jsonl").read_text().splitlines()]
    assert [r["fnc_gold"] for r in records] == ["agree", "disagree", "discuss", "unrelated"]
    assert block["score"] == fnc_score([r["fnc_gold"] for r in records], [r["fnc_prediction"] for r in records])
    assert [r["gold"] for r in records] == ["support", "contradict", "neutral", "neutral"]
    # The unrelated body shares no word with the headline: the lexical rule calls it unrelated.
    assert records[3]["relatedness"] == 0.0 and records[3]["fnc_prediction"] == "unrelated"
    # ... so the relatedness gate (on by default) never sent it to the model.
    assert [r["gated"] for r in records] == [r["relatedness"] < 0.07 for r in records]
    assert records[0]["gated"] is False and records[3]["gated"] is True
    assert records[3]["label"] == "neutral" and records[3]["evidence"] == []
    predictions = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert [p["prediction"] for p in predictions] == [r["label"] for r in records]
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["sets"]["fnc1_competition_test"]["fnc"]["score"] == block["score"]
    assert on_disk["sets"]["fnc1_competition_test"]["n"] == 4
    assert on_disk.get("commit") == source_commit()
    report = (tmp_path / "report.md").read_text()
    assert "## FNC-1 view (four labels)" in report and "fnc1_competition_test" in report
    assert block["gated"] == sum(r["gated"] for r in records) and "Relatedness gate" in report

    cfg.data.document_input = "selected_sentences"
    with pytest.raises(ValueError, match="document.input"):
        evaluate_documents(cfg)


@pytest.mark.parametrize(
    "overrides,gated",
    [
        # FNC-1's own threshold (0.07) lets only the first pair through ...
        ([], [False, True, True, True]),
        # ... the corpus's threshold (data.relatedness_threshold) gates every pair when above every cosine ...
        (["data.relatedness_threshold=1.0"], [True, True, True, True]),
        # ... and fnc.relatedness_threshold, when set, overrides it.
        (["data.relatedness_threshold=1.0", "fnc.relatedness_threshold=0.0"], [False, False, False, False]),
    ],
)
def test_the_gate_uses_the_corpus_threshold_unless_fnc_sets_one(stance_model_dir, tmp_path, overrides, gated):
    cfg = compose_config(
        "evaluate",
        [f"model_dir={stance_model_dir}", "mode=document", "data=fnc1", f"paths.data_root={FIXTURE_ROOT}"]
        + [f"paths.output_dir={tmp_path}", "device=cpu", *overrides],
    )
    block = evaluate_documents(cfg).sets["fnc1_competition_test"]["fnc"]
    records = [json.loads(line) for line in (tmp_path / "documents.jsonl").read_text().splitlines()]
    assert [r["gated"] for r in records] == gated and block["gated"] == sum(gated)
