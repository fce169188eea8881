"""The scripts that load a model cap oneDNN's kernel cache, as training does (docs/performance.md), and the
OpenVINO backends read the cap the process runs with."""

from __future__ import annotations

import os

import pytest
from omegaconf import OmegaConf

from stancekit.config import EvaluateRunConfig, ServeRunConfig
from stancekit.runs import common
from stancekit.system import kernel_cache_capacity, limit_kernel_cache


def test_evaluate_caps_the_kernel_cache_and_serve_leaves_it(monkeypatch):
    assert OmegaConf.structured(EvaluateRunConfig).onednn_cache_capacity == 64
    assert OmegaConf.structured(ServeRunConfig).onednn_cache_capacity is None
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "unset by the test")  # restored (removed) afterwards
    monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY")
    monkeypatch.setattr(common.StanceClassifier, "from_pretrained", classmethod(lambda cls, *a, **k: "loaded"))
    cfg = OmegaConf.create({"malloc_mmap_threshold_mb": None, "onednn_cache_capacity": 64, "model_dir": "m"})
    cfg.update({k: None for k in ("device", "batch_size", "max_length", "backend", "num_threads", "precision")})
    cfg.pad_to_multiple_of, cfg.torch_compile = None, False
    assert common.load_classifier(cfg) == "loaded"
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "64"


def test_kernel_cache_capacity_reads_what_the_process_set(monkeypatch):
    monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", raising=False)
    assert kernel_cache_capacity() is None
    assert limit_kernel_cache(64, "onednn_cache_capacity") is True
    assert kernel_cache_capacity() == 64
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", " 0 ")  # the user's own value, as oneDNN reads it
    assert kernel_cache_capacity() == 0
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "-1")
    with pytest.raises(ValueError, match=">= 0"):
        kernel_cache_capacity()
