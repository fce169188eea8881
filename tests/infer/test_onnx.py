"""The ONNX Runtime backends: fp32 computes what PyTorch does, int8 gives valid probabilities, static int8 is
calibrated on real pairs (and says how when it has none), all keep labels, temperature and the cache."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest
import torch

from stancekit import StanceClassifier
from stancekit.infer import classifier
from stancekit.infer import onnx as onnx_backend
from stancekit.infer.precision import resolve_inference_precision
from stancekit.labels import LABELS
from stancekit.models.folder import update_metadata
from tests.helpers import shuffled_sample_pairs, temporary_files

pytest.importorskip("onnxruntime")  # the [onnx] extra (make install has it)


PAIRS = shuffled_sample_pairs()
CALIBRATION = PAIRS[:40]  # what onnx-int8-static is calibrated on (all of it: fewer than the default 300)


def _refuse(what: str):
    def refuse(*args, **kwargs):
        raise AssertionError(f"{what} although the cache is current")

    return refuse


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


def test_onnx_int8_static_is_calibrated_recorded_and_reused(stance_model_dir, tmp_path, monkeypatch):
    folder = tmp_path / "model"
    shutil.copytree(stance_model_dir, folder, ignore=shutil.ignore_patterns("onnx"))
    static = StanceClassifier.from_pretrained(
        folder, backend="onnx-int8-static", calibration_pairs=CALIBRATION, batch_size=7
    )
    assert static.backend == "onnx-int8-static" and static.precision == "int8"
    cache = folder / "onnx"
    assert (cache / "model.int8-static.onnx").is_file() and not temporary_files(cache)
    entry = json.loads((cache / "export.json").read_text())["onnx-int8-static"]
    text = json.dumps([list(p) for p in CALIBRATION], ensure_ascii=False).encode()
    assert entry["calibration"] == {"pairs": 40, "sha256": hashlib.sha256(text).hexdigest()}
    assert entry["weights"] and entry["onnxruntime"]

    # Close to fp32 ONNX. This random model's logits are ~0.03 and its top-two margins ~0.01; the int8 logits
    # measured at most 2.2e-4 off (1.0 label agreement), while a quantiser that lost the ranges is off by the
    # logits' own size.
    exact = StanceClassifier.from_pretrained(folder, backend="onnx", batch_size=7).predict_logits(PAIRS)
    got = static.predict_logits(PAIRS)
    assert not np.allclose(got, exact, atol=1e-6), "static int8 ran the fp32 model"
    # Relative to the logits' scale: without VNNI (AVX2 only) ORT's u8s8 products saturate, and the tiny model's
    # logits (~0.02) moved by up to 15 % of their size there (within 0.002 on AVX-512 VNNI machines).
    assert np.abs(got - exact).max() < 0.25 * np.abs(exact).max(), np.abs(got - exact).max()
    assert np.corrcoef(got.ravel(), exact.ravel())[0, 1] > 0.99
    agreement = np.mean(got.argmax(axis=1) == exact.argmax(axis=1))
    assert agreement >= 0.9, agreement

    # Only the quantised matrix products read int8 (dequantised) tensors: the residual stream, layer norms and
    # the layer that makes the logits get fp32, and the weights are stored as int8.
    import onnx

    graph = onnx.load(str(cache / "model.int8-static.onnx")).graph
    producer = {out: n for n in graph.node for out in n.output}
    readers = {
        n.op_type for n in graph.node for i in n.input if getattr(producer.get(i), "op_type", "") == "DequantizeLinear"
    }
    assert "MatMul" in readers and readers <= {"MatMul", "Gemm"}, readers
    head = producer[graph.output[0].name]
    assert not any(getattr(producer.get(i), "op_type", "") == "DequantizeLinear" for i in head.input), head
    assert (cache / "model.int8-static.onnx").stat().st_size < (cache / "model.onnx").stat().st_size

    # Later loads use the cache: no pairs needed, nothing quantised again, no PyTorch model loaded.
    import onnxruntime.quantization

    monkeypatch.setattr(onnxruntime.quantization, "quantize_static", _refuse("quantised again"))
    monkeypatch.setattr(classifier.AutoModelForSequenceClassification, "from_pretrained", _refuse("loaded torch"))
    again = StanceClassifier.from_pretrained(folder, backend="onnx-int8-static", batch_size=7)
    np.testing.assert_allclose(again.predict_logits(PAIRS), got, atol=1e-6)
    StanceClassifier.from_pretrained(folder, backend="onnx-int8-static", calibration_pairs=CALIBRATION)
    monkeypatch.undo()

    # Other pairs (a seeded sample of 20): quantised again, and the manifest says so.
    onnx_backend.quantize_onnx_static(folder, PAIRS[::-1], subset_size=20)
    other = json.loads((cache / "export.json").read_text())["onnx-int8-static"]["calibration"]
    assert other["pairs"] == 20 and other["sha256"] != entry["calibration"]["sha256"]
    # A new fp32 export drops the record of the file quantised from the old one.
    onnx_backend.export_onnx(folder)
    assert onnx_backend.cached_file(folder, "onnx-int8-static") is None


def test_onnx_int8_static_without_calibration_says_how(stance_model_dir, tmp_path, monkeypatch):
    folder = tmp_path / "model"
    shutil.copytree(stance_model_dir, folder, ignore=shutil.ignore_patterns("onnx"))
    # The errors come before anything is loaded or converted: the fix is the caller's.
    monkeypatch.setattr(classifier.AutoModelForSequenceClassification, "from_pretrained", _refuse("loaded torch"))
    with pytest.raises(ValueError, match=r"no quantised model yet: pass calibration_pairs=.*quantize_onnx_static"):
        StanceClassifier.from_pretrained(folder, backend="onnx-int8-static")
    with pytest.raises(
        ValueError, match="calibration_pairs is for the onnx-int8-static backend; the onnx-int8 backend"
    ):
        StanceClassifier.from_pretrained(folder, backend="onnx-int8", calibration_pairs=CALIBRATION)
    with pytest.raises(ValueError, match="for the onnx-int8-static and openvino-int8 backends; the torch backend"):
        StanceClassifier.from_pretrained(folder, calibration_pairs=CALIBRATION)
    assert not (folder / "onnx").exists()
    for bad, problem in [([], "none given"), ([("a", "")], "calibration pair 0"), ("a text", "expected a sequence")]:
        with pytest.raises(ValueError, match=problem):
            onnx_backend.quantize_onnx_static(folder, bad)
    # Its precision is its own, as for onnx-int8.
    cpu = torch.device("cpu")
    assert resolve_inference_precision("auto", "onnx-int8-static", cpu) == "int8"
    assert resolve_inference_precision("fp32", "onnx-int8-static", cpu) == "int8"
    with pytest.raises(ValueError, match="sets its own"):
        resolve_inference_precision("bf16-checked", "onnx-int8-static", cpu)


def test_onnx_backends_apply_the_stored_temperature(stance_model_dir, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(stance_model_dir, folder, ignore=shutil.ignore_patterns("onnx"))
    update_metadata(folder, temperature=2.5)
    for backend in ("torch", "onnx", "onnx-int8", "onnx-int8-static"):
        calibration = {"calibration_pairs": CALIBRATION} if backend == "onnx-int8-static" else {}
        c = StanceClassifier.from_pretrained(folder, device="cpu", backend=backend, **calibration)
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
    # torch.compile is PyTorch's; a converted backend's runtime compiles its own graph.
    with pytest.raises(ValueError, match="torch_compile=True is for backend=torch; the onnx runtime"):
        StanceClassifier.from_pretrained(stance_model_dir, backend="onnx", torch_compile=True)


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
