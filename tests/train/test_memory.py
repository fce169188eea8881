"""Training memory settings: heap growth limit, oneDNN cache cap, heap trimming, fixed word embeddings."""

from __future__ import annotations

import os

import pytest
import torch

from tests.helpers import compose_config, tiny_train_overrides


def test_heap_growth_limit_is_an_option():
    from stancekit.system import glibc
    from stancekit.train.memory import limit_heap_growth

    assert limit_heap_growth(None) is False
    assert limit_heap_growth(2.0) is (glibc() is not None)  # applied on Linux/glibc, a no-op elsewhere
    with pytest.raises(ValueError, match="malloc_mmap_threshold_mb"):
        limit_heap_growth(0)


def test_onednn_kernel_cache_is_capped_unless_the_user_set_it(monkeypatch):
    from stancekit.train.memory import limit_kernel_cache

    monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", raising=False)
    assert limit_kernel_cache(None) is False and "ONEDNN_PRIMITIVE_CACHE_CAPACITY" not in os.environ
    with pytest.raises(ValueError, match="onednn_cache_capacity"):
        limit_kernel_cache(-1)
    assert limit_kernel_cache(64) is True and os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "64"
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8")  # the user's own value wins
    assert limit_kernel_cache(64) is False and os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "8"


def test_heap_is_trimmed_every_n_steps_when_asked(tiny_model_dir, tmp_path, monkeypatch):
    from stancekit.train import memory, recipe

    with pytest.raises(ValueError, match="malloc_trim_steps"):
        memory.HeapTrimCallback(0)

    class FakeLibc:  # stands in for glibc, so the call count is seen on any platform
        trims = 0

        def malloc_trim(self, pad):
            FakeLibc.trims += 1

        def mallopt(self, param, value):
            return 1

    monkeypatch.setattr(memory, "glibc", FakeLibc)
    base = ["train.max_steps=4", "train.batch_size=4", "train.gradient_accumulation_steps=1", "run_test=false"]
    off = [*base, "train.malloc_trim_steps=null"]
    recipe.train(compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path / "a", off)))
    untrimmed = FakeLibc.trims  # release_training_memory's one trim after training
    overrides = [*base, "train.malloc_trim_steps=2"]
    recipe.train(compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path / "b", overrides)))
    assert FakeLibc.trims - untrimmed == untrimmed + 2  # the same, plus one trim at steps 2 and 4


def test_word_embeddings_stay_fixed_unless_asked_to_train(tiny_model_dir, tmp_path):
    from safetensors.torch import load_file

    from stancekit.train import train

    base = load_file(tiny_model_dir / "model.safetensors")
    key = next(k for k in base if k.endswith("word_embeddings.weight"))
    common = ["train.max_steps=2", "train.calibrate=false", "run_test=false"]
    for frozen in (True, False):
        run = tmp_path / str(frozen)
        overrides = [*common, f"train.freeze_word_embeddings={str(frozen).lower()}"]
        train(compose_config("train", tiny_train_overrides(tiny_model_dir, run, overrides)))
        tuned = load_file(run / "model" / "model.safetensors")
        tuned_key = next(k for k in tuned if k.endswith("word_embeddings.weight"))
        assert torch.equal(tuned[tuned_key], base[key]) == frozen
        # Everything else trains either way (the position embeddings, for one).
        position = next(k for k in tuned if k.endswith("position_embeddings.weight"))
        assert not torch.equal(tuned[position], base[position.removeprefix("bert.")])
