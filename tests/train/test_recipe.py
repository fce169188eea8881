"""The recipe end to end on a tiny model: temperature, calibration and capabilities reported, several test sets,
resume."""

from __future__ import annotations

import json

import pytest
from transformers import TrainerCallback

from stancekit.config import SourceConfig
from stancekit.train import train
from tests.helpers import SAMPLE_DIR, compose_config, tiny_train_overrides


def test_training_stores_temperature_and_reports_calibration_and_capabilities(calibrated_model):
    run_dir, result = calibrated_model
    meta = json.loads((run_dir / "model" / "stancekit.json").read_text())
    assert meta["temperature"] > 0 and result.temperature == pytest.approx(meta["temperature"])
    block = result.test["sample"]
    assert block["temperature"] == pytest.approx(meta["temperature"])
    assert {"ece", "ece_before", "nll", "nll_before", "accuracy_at_coverage"} <= set(block)
    assert set(result.capabilities) >= {"negation", "symmetry", "premise_blanked"}
    report = (run_dir / "report.md").read_text()
    assert "ECE" in report and "## Capabilities" in report and "acc @ 50%" in report
    assert (run_dir / "reliability.png").exists() and (run_dir / "coverage.png").exists()


def test_training_with_several_test_sets(tiny_model_dir, tmp_path):
    """Each test source is reported apart; the model card and metrics.json hold one block per set."""

    cfg = compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path))
    # A second copy of the test file (the validation file would be a leak: the guard drops all of it).
    cfg.data.test = [
        SourceConfig(adapter="jsonl", name="second", files=[str(SAMPLE_DIR / "test.jsonl")]),
    ]
    result = train(cfg)
    assert list(result.test) == ["sample", "second"] and result.capabilities
    card = (tmp_path / "model" / "README.md").read_text()
    assert "| sample | 60 |" in card and "| second | 60 |" in card
    assert json.loads((tmp_path / "metrics.json").read_text())["sets"]["second"]["n"] == 60


class StopAfterFirstSave(TrainerCallback):
    """Simulates a run that stops (is killed, preempted) right after writing its first checkpoint."""

    def on_save(self, args, state, control, **kwargs):
        control.should_training_stop = True


class RecordStart(TrainerCallback):
    def on_train_begin(self, args, state, control, **kwargs):
        self.start_step = state.global_step


def test_resume_continues_from_the_last_checkpoint(tiny_model_dir, tmp_path):
    extra = [
        "train.max_steps=6",
        "train.eval_steps=2",
        "train.save_total_limit=5",
        "train.early_stopping_patience=0",
        "train.report_to=[tensorboard]",
    ]
    cfg = compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path, extra))
    train(cfg, callbacks=[StopAfterFirstSave()])
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("checkpoint-*")) == ["checkpoint-2"]

    recorder = RecordStart()
    cfg = compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path, extra + ["train.resume=true"]))
    train(cfg, callbacks=[recorder])
    assert recorder.start_step == 2, "training restarted instead of resuming"
    summary = json.loads((tmp_path / "train_summary.json").read_text())
    assert summary["global_step"] == 6
    # TensorBoard event files land in the run folder by default.
    assert list((tmp_path / "checkpoints" / "runs").rglob("events.out.tfevents*"))
