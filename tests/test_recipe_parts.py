"""Baselines, class weights, augmentations, and the multi-set evaluation report with capabilities."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import SAMPLE_DIR, compose_config, tiny_train_overrides
from stancekit.baselines import fit_baseline
from stancekit.data import build_splits
from stancekit.data.augment import random_premise_neutrals, swap_contradictions
from stancekit.labels import LABEL2ID, LABELS
from stancekit.scoring import evaluate_baseline, evaluate_model
from stancekit.training import class_weights, make_loss, train


def sample_splits():
    cfg = compose_config("train", ["paths.output_dir=/tmp/x"])
    return build_splits(cfg.data, cfg.paths.data_root)


def test_majority_baseline_predicts_the_majority_label():
    train = sample_splits().train.select(range(50))
    model = fit_baseline("majority", train)
    counts = np.bincount(train["label"], minlength=3)
    logits = model.predict_logits([("a", "b"), ("c", "d")])
    assert (logits.argmax(1) == counts.argmax()).all()
    assert np.exp(logits).sum(1) == pytest.approx([1, 1])


def test_tfidf_baselines_learn_the_sample_and_hypothesis_only_ignores_the_premise():
    splits = sample_splits()
    full = fit_baseline("tfidf", splits.train)
    hyp = fit_baseline("hypothesis_only", splits.train)
    pairs = list(zip(splits.train["premise"], splits.train["hypothesis"]))
    train_acc = (full.predict_logits(pairs).argmax(1) == np.array(splits.train["label"])).mean()
    assert train_acc > 0.6  # it fits its own training data
    swapped_premises = [("completely different evidence about weather", h) for _, h in pairs[:20]]
    assert np.allclose(hyp.predict_logits(pairs[:20]), hyp.predict_logits(swapped_premises))
    assert not np.allclose(full.predict_logits(pairs[:20]), full.predict_logits(swapped_premises))


def test_baseline_report_through_the_same_harness(tmp_path):
    cfg = compose_config("baseline", ["baseline=tfidf", f"paths.output_dir={tmp_path}"])
    metrics = evaluate_baseline(cfg)
    assert metrics["n"] == 60 and "ece" in metrics and "capabilities" in metrics
    report = (tmp_path / "report.md").read_text()
    assert "## Capabilities" in report and "| sample | 60 |" in report
    assert (tmp_path / "reliability.png").exists() and (tmp_path / "coverage.png").exists()


def test_class_weights():
    labels = [0] * 6 + [1] * 3 + [2] * 1
    balanced = class_weights("balanced", labels)
    assert balanced.tolist() == pytest.approx([10 / 18, 10 / 9, 10 / 3])
    assert class_weights("1,2,1", labels).tolist() == [1.0, 2.0, 1.0]
    assert class_weights(None, labels) is None
    for bad in ["1,2", "a,b,c", "1,0,1"]:
        with pytest.raises(ValueError, match="class_weights"):
            class_weights(bad, labels)


def test_weighted_loss_matches_torch_and_normalises_for_accumulation():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    labels = torch.tensor([0, 1, 2, 0])
    weights = torch.tensor([1.0, 2.0, 0.5])
    loss = make_loss(weights, 0.1)
    expected = torch.nn.functional.cross_entropy(logits, labels, weight=weights, label_smoothing=0.1)
    assert loss({"logits": logits}, labels).item() == pytest.approx(expected.item())
    # Under gradient accumulation the Trainer gives the label count of the whole accumulated batch.
    summed = torch.nn.functional.cross_entropy(logits, labels, weight=weights, label_smoothing=0.1, reduction="sum")
    assert loss({"logits": logits}, labels, num_items_in_batch=8).item() == pytest.approx(summed.item() / 8)


def test_augmentations():
    pairs = [
        {"id": str(i), "premise": f"premise {i}", "hypothesis": f"claim {i}", "label": i % 3, "source": "s"}
        for i in range(30)
    ]
    swapped = swap_contradictions(pairs, 1.0, seed=0)
    originals = [p for p in pairs if p["label"] == LABEL2ID["contradict"]]
    assert len(swapped) == len(originals) == 10
    assert {(p["premise"], p["hypothesis"]) for p in swapped} == {(p["hypothesis"], p["premise"]) for p in originals}
    assert len(swap_contradictions(pairs, 0.5, seed=0)) == 5
    neutrals = random_premise_neutrals(pairs, 0.5, seed=0)
    assert len(neutrals) == 15 and all(p["label"] == LABEL2ID["neutral"] for p in neutrals)
    by_claim = {p["hypothesis"]: p["premise"] for p in pairs}
    assert all(by_claim[p["hypothesis"]] != p["premise"] for p in neutrals)


def test_augmented_training_split_is_reported(tmp_path):
    cfg = compose_config(
        "train",
        ["paths.output_dir=/tmp/x", "data.augment.swap_contradictions=1.0", "data.augment.random_premise_neutral=0.2"],
    )
    splits = build_splits(cfg.data, cfg.paths.data_root)
    summary = splits.summary["train"]
    assert summary["+ swapped contradictions"]["n"] == 80
    assert summary["+ random-premise neutrals"]["n"] == 48
    assert len(splits.train) == 240 + 80 + 48 and len(splits.validation) == 60


@pytest.fixture(scope="module")
def calibrated_model(tiny_model_dir, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("calibrated")
    cfg = compose_config(
        "train",
        tiny_train_overrides(tiny_model_dir, run_dir, ["train.class_weights=balanced", "train.label_smoothing=0.1"]),
    )
    metrics = train(cfg)
    return run_dir, metrics


def test_training_stores_temperature_and_reports_calibration_and_capabilities(calibrated_model):
    run_dir, metrics = calibrated_model
    meta = json.loads((run_dir / "model" / "stancekit.json").read_text())
    assert meta["temperature"] > 0 and metrics["temperature"] == pytest.approx(meta["temperature"])
    assert {"ece", "ece_before", "nll", "nll_before", "accuracy_at_coverage"} <= set(metrics)
    assert set(metrics["capabilities"]) >= {"negation", "symmetry", "premise_blanked"}
    report = (run_dir / "report.md").read_text()
    assert "ECE" in report and "## Capabilities" in report and "acc @ 50%" in report
    assert (run_dir / "reliability.png").exists() and (run_dir / "coverage.png").exists()


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
    metrics = evaluate_model(cfg)
    assert set(metrics) == {"sample_copy", "sample", "capabilities"}
    assert metrics["sample"]["accuracy"] == pytest.approx(metrics["sample_copy"]["accuracy"])
    report = (tmp_path / "report.md").read_text()
    assert "| sample_copy | 60 |" in report and "| sample | 60 |" in report and "mean over sets" in report
    assert all(lab in LABELS for lab in metrics["sample"]["labels_scored"])

    # The suite alone, with no data set.
    cfg = compose_config(
        "evaluate",
        [f"model_dir={run_dir / 'model'}", "data=none", "suite=capabilities", f"paths.output_dir={tmp_path / 'suite'}"],
    )
    metrics = evaluate_model(cfg)
    assert list(metrics) == ["capabilities"]


def test_unknown_set_name_is_a_clear_error(calibrated_model, tmp_path):
    run_dir, _ = calibrated_model
    cfg = compose_config("evaluate", [f"model_dir={run_dir / 'model'}", "sets=[snly]", f"paths.output_dir={tmp_path}"])
    with pytest.raises(ValueError, match="unknown data config 'snly'"):
        evaluate_model(cfg)


def test_training_with_several_test_sets(tiny_model_dir, tmp_path):
    """Each test source is reported apart; the model card and metrics.json hold one block per set."""
    from stancekit.config import SourceConfig

    cfg = compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path))
    cfg.data.test = [
        SourceConfig(adapter="jsonl", name="second", files=[str(SAMPLE_DIR / "validation.jsonl")]),
    ]
    metrics = train(cfg)
    assert set(metrics) == {"sample", "second", "capabilities"}
    card = (tmp_path / "model" / "README.md").read_text()
    assert "| sample | 60 |" in card and "| second | 60 |" in card
    assert json.loads((tmp_path / "metrics.json").read_text())["second"]["n"] == 60


def test_max_length_is_capped_at_what_the_model_accepts(tiny_model_dir, caplog):
    from transformers import AutoConfig, AutoTokenizer

    from stancekit.config import ModelConfig
    from stancekit.inference import StanceClassifier
    from stancekit.modeling import build_model, usable_max_length

    config, tokenizer = AutoConfig.from_pretrained(tiny_model_dir), AutoTokenizer.from_pretrained(tiny_model_dir)
    assert config.max_position_embeddings == 128  # the tiny test model
    assert usable_max_length(config, tokenizer, None) == 128
    assert usable_max_length(config, tokenizer, 64) == 64
    with caplog.at_level("WARNING"):
        assert usable_max_length(config, tokenizer, 256) == 128
    assert "using its limit, 128 tokens" in caplog.text
    # A pair longer than the model's positions is truncated, not a crash in the embedding lookup.
    clf = StanceClassifier(build_model(ModelConfig(name_or_path=str(tiny_model_dir))), tokenizer, max_length=256)
    assert clf.max_length == 128
    assert clf.predict_proba([("word " * 400, "a claim")]).shape == (1, 3)
