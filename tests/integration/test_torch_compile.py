"""torch.compile for training (train.torch_compile) and inference (torch_compile of StanceClassifier and of the
scripts that load a model): slow (Inductor compiles the tiny model for minutes on 2 cores)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors import safe_open

from stancekit import StanceClassifier
from stancekit.runs.common import load_classifier
from stancekit.train import train
from stancekit.train.trainer import training_arguments
from tests.helpers import compose_config, shuffled_sample_pairs, tiny_train_overrides


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


@pytest.mark.slow
def test_a_compiled_classifier_answers_as_the_eager_one(stance_model_dir):
    """torch_compile=True: the same probabilities as eager in fp32 and the same labels at the default precision
    (bf16 with the fp32 recheck where the CPU has bf16), over batches of many lengths and sizes (dynamic shapes)."""
    pairs = shuffled_sample_pairs()[:40]
    for precision in ("fp32", "auto"):
        eager = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", precision=precision, batch_size=8)
        compiled = StanceClassifier.from_pretrained(
            stance_model_dir, device="cpu", precision=precision, batch_size=8, torch_compile=True
        )
        assert compiled.torch_compile and not eager.torch_compile
        assert isinstance(compiled.model, torch._dynamo.eval_frame.OptimizedModule)
        if precision == "fp32":
            np.testing.assert_allclose(compiled.predict_proba(pairs), eager.predict_proba(pairs), atol=1e-4)
        assert compiled.predict(pairs) == eager.predict(pairs)
    # After warm_up (what scripts/serve.py runs first), calls of new lengths and sizes compile nothing more.
    compiled = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", batch_size=8, torch_compile=True)
    compiled.warm_up()
    graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    for n in (1, 3, 8, 40):
        compiled.predict_proba(pairs[:n])
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == graphs
    # The scripts that load a saved model (evaluate, predict, tune_document, serve) pass it through.
    overrides = [f"model_dir={stance_model_dir}", "data=sample"]
    assert load_classifier(compose_config("evaluate", [*overrides, "torch_compile=true"])).torch_compile
    assert not load_classifier(compose_config("evaluate", overrides)).torch_compile
