"""The ONNX Runtime backends: fp32 computes what PyTorch does, int8 gives valid probabilities, both keep labels,
temperature and the cache."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from stancekit import StanceClassifier
from stancekit.infer import onnx as onnx_backend
from stancekit.labels import LABELS
from stancekit.models.folder import update_metadata
from tests.helpers import shuffled_sample_pairs

pytest.importorskip("onnxruntime")  # the [onnx] extra (make install has it)


PAIRS = shuffled_sample_pairs()


def test_onnx_fp32_agrees_with_torch_and_is_cached(stance_model_dir, clf, monkeypatch):
    onnx_clf = StanceClassifier.from_pretrained(stance_model_dir, backend="onnx", batch_size=7)
    assert onnx_clf.backend == "onnx" and onnx_clf.labels == clf.labels
    np.testing.assert_allclose(onnx_clf.predict_logits(PAIRS), clf.predict_logits(PAIRS), atol=1e-4)
    np.testing.assert_allclose(onnx_clf.predict_proba(PAIRS), clf.predict_proba(PAIRS), atol=1e-4)
    assert onnx_clf.predict(PAIRS) == clf.predict(PAIRS)
    cache = stance_model_dir / "onnx"
    assert (cache / "model.onnx").is_file() and (cache / "export.json").is_file()

    # The second load uses the cached file: exporting again would fail here.
    def no_export(*args, **kwargs):
        raise AssertionError("exported again although the cache is current")

    monkeypatch.setattr(onnx_backend, "export_onnx", no_export)
    StanceClassifier.from_pretrained(stance_model_dir, backend="onnx")


def test_onnx_int8_gives_valid_probabilities(stance_model_dir):
    int8 = StanceClassifier.from_pretrained(stance_model_dir, backend="onnx-int8")
    probs = int8.predict_proba(PAIRS)
    assert probs.shape == (len(PAIRS), len(LABELS))
    assert np.all(probs >= 0) and np.all(probs <= 1)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert set(int8.predict(PAIRS)) <= set(LABELS)
    fp32, quantised = stance_model_dir / "onnx" / "model.onnx", stance_model_dir / "onnx" / "model.int8.onnx"
    assert quantised.stat().st_size < fp32.stat().st_size  # int8 weights, not a copy


def test_onnx_backends_apply_the_stored_temperature(stance_model_dir, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(stance_model_dir, folder, ignore=shutil.ignore_patterns("onnx"))
    update_metadata(folder, temperature=2.5)
    for backend in ("torch", "onnx", "onnx-int8"):
        c = StanceClassifier.from_pretrained(folder, device="cpu", backend=backend)
        assert c.temperature == 2.5
        logits = c.predict_logits(PAIRS[:5]) / 2.5
        expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(c.predict_proba(PAIRS[:5]), expected, atol=1e-6)


def test_onnx_cache_follows_the_model(stance_model_dir, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(stance_model_dir, folder)  # with its onnx/ cache
    assert onnx_backend.cached_file(folder, "onnx") is not None
    config = json.loads((folder / "config.json").read_text())
    config["classifier_dropout"] = 0.2  # a changed model folder: the export no longer matches it
    (folder / "config.json").write_text(json.dumps(config))
    assert onnx_backend.cached_file(folder, "onnx") is None
    assert onnx_backend.cached_file(folder, "onnx-int8") is None


def test_backend_option_is_checked(stance_model_dir):
    with pytest.raises(ValueError, match="backend must be one of"):
        StanceClassifier.from_pretrained(stance_model_dir, backend="tensorrt")
    with pytest.raises(ValueError, match="runs on the CPU"):
        StanceClassifier.from_pretrained(stance_model_dir, backend="onnx", device="cuda")


def test_a_graph_with_external_weights_points_at_its_own_data_file(stance_model_dir, tmp_path, monkeypatch, clf):
    """Models past protobuf's 2 GB limit keep their weights in model.onnx.data: the cached graph must name
    that file (not the exporter's temporary one), and nothing temporary may be left beside it."""
    folder = tmp_path / "m"
    shutil.copytree(stance_model_dir, folder, ignore=shutil.ignore_patterns("onnx"))
    monkeypatch.setattr(onnx_backend, "EXTERNAL_DATA_BYTES", 0)  # the tiny model counts as huge
    onnx_clf = StanceClassifier.from_pretrained(folder, backend="onnx", batch_size=7)
    cache = folder / "onnx"
    assert sorted(p.name for p in cache.iterdir()) == ["export.json", "model.onnx", "model.onnx.data"]
    np.testing.assert_allclose(onnx_clf.predict_logits(PAIRS), clf.predict_logits(PAIRS), atol=1e-4)
    again = StanceClassifier.from_pretrained(folder, backend="onnx", batch_size=7)  # from the cache
    np.testing.assert_allclose(again.predict_logits(PAIRS[:5]), clf.predict_logits(PAIRS[:5]), atol=1e-4)
