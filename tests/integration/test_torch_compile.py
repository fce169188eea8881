"""torch.compile for training (train.torch_compile): slow (Inductor compiles the tiny model for minutes on 2 cores)."""

from __future__ import annotations

import pytest
import torch
from safetensors import safe_open

from stancekit import StanceClassifier
from stancekit.train import train
from stancekit.train.trainer import training_arguments
from tests.helpers import compose_config, tiny_train_overrides


@pytest.mark.slow
def test_torch_compile_trains_and_saves_a_plain_model(tiny_model_dir, tmp_path):
    """train.torch_compile=true: the Trainer compiles the model (Inductor); the saved folder is the plain model."""
    if torch.cuda.is_available():
        pytest.skip("checks the CPU path")
    overrides = ["train.torch_compile=true", "train.max_steps=3", "run_test=false"]
    cfg = compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path, overrides))
    assert training_arguments(cfg.train, tmp_path / "checkpoints").torch_compile
    assert not training_arguments(
        compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path)).train, tmp_path
    ).torch_compile
    result = train(cfg)
    assert 0 <= result.validation["eval_macro_f1"] <= 1
    # No compiled wrapper's names ("_orig_mod.") leak into the saved weights: plain transformers loads them.
    with safe_open(str(tmp_path / "model" / "model.safetensors"), "pt") as weights:
        names = list(weights.keys())
    assert names and not any("_orig_mod" in name for name in names)
    assert StanceClassifier.from_pretrained(tmp_path / "model").predict([("A man sleeps.", "A man is awake.")])
