"""The OpenVINO backends: fp32 computes what PyTorch does, bf16 is checked as for PyTorch, int8 is calibrated on
real pairs (and says how when it has none), all keep labels, temperature and the shared cache."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from stancekit import StanceClassifier
from stancekit.infer import backends, classifier
from stancekit.infer import openvino as ov_backend
from stancekit.infer.precision import resolve_inference_precision
from stancekit.labels import LABELS
from stancekit.models.folder import update_metadata
from stancekit.system import cpu_has_native_bf16
from tests.helpers import SAMPLE_DIR, read_jsonl, shuffled_sample_pairs

pytest.importorskip("openvino", reason="the [openvino] extra (make install has it)")
pytest.importorskip("nncf", reason="the [openvino] extra (make install has it)")

PAIRS = shuffled_sample_pairs()  # the sample's test pairs: what is scored
TRAIN = [(r["premise"], r["hypothesis"]) for r in read_jsonl(SAMPLE_DIR / "train.jsonl")]  # what calibrates


@pytest.fixture(scope="module")
def ov_model_dir(stance_model_dir, tmp_path_factory):
    """A copy of the stance model with its OpenVINO fp32 and int8 (calibrated on TRAIN) files cached: tests
    copy it to start from a converted folder without converting again."""
    folder = tmp_path_factory.mktemp("ov") / "model"
    shutil.copytree(stance_model_dir, folder, ignore=shutil.ignore_patterns("openvino"))
    StanceClassifier.from_pretrained(folder, backend="openvino-int8", calibration_pairs=TRAIN)
    return folder


def _copy(folder, tmp_path, with_cache: bool = True):
    target = tmp_path / "model"
    shutil.copytree(folder, target, ignore=None if with_cache else shutil.ignore_patterns("openvino"))
    return target


def _refuse(what: str):
    def refuse(*args, **kwargs):
        raise AssertionError(f"{what} although the cache is current")

    return refuse


def test_openvino_fp32_agrees_with_torch_and_is_cached(stance_model_dir, clf, tmp_path, monkeypatch):
    folder = _copy(stance_model_dir, tmp_path, with_cache=False)
    ov_clf = StanceClassifier.from_pretrained(folder, backend="openvino", batch_size=7, precision="fp32")
    assert ov_clf.backend == "openvino" and ov_clf.precision == "fp32" and ov_clf.labels == clf.labels
    # This model's logits are ~0.03, so the bound is tight: fp16-stored weights (OpenVINO's default) miss it.
    np.testing.assert_allclose(ov_clf.predict_logits(PAIRS), clf.predict_logits(PAIRS), atol=1e-6)
    np.testing.assert_allclose(ov_clf.predict_proba(PAIRS), clf.predict_proba(PAIRS), atol=1e-6)
    assert ov_clf.predict(PAIRS) == clf.predict(PAIRS)
    cache = folder / "openvino"
    assert sorted(p.name for p in cache.iterdir()) == ["export.json", "model.bin", "model.xml"]
    weights = sum(p.stat().st_size for p in folder.glob("*.safetensors"))
    assert (cache / "model.bin").stat().st_size > 0.9 * weights  # fp32 weights, not fp16's half
    entry = json.loads((cache / "export.json").read_text())["openvino"]
    assert entry["weights"] and entry["config_sha256"] and entry["openvino"]

    # The second load runs the cached file: neither converting nor loading the PyTorch model is allowed.
    monkeypatch.setattr(ov_backend, "convert_openvino", _refuse("converted again"))
    monkeypatch.setattr(classifier.AutoModelForSequenceClassification, "from_pretrained", _refuse("loaded torch"))
    again = StanceClassifier.from_pretrained(folder, backend="openvino", batch_size=7, precision="fp32")
    np.testing.assert_allclose(again.predict_logits(PAIRS[:9]), clf.predict_logits(PAIRS[:9]), atol=1e-5)


def test_openvino_cache_follows_the_model(ov_model_dir, tmp_path, monkeypatch):
    folder = _copy(ov_model_dir, tmp_path)
    assert backends.cached_file(folder, "openvino") is not None
    assert backends.cached_file(folder, "openvino-int8") is not None
    config = json.loads((folder / "config.json").read_text())
    config["classifier_dropout"] = 0.2  # a changed model folder: the converted files no longer match it
    (folder / "config.json").write_text(json.dumps(config))
    assert backends.cached_file(folder, "openvino") is None
    assert backends.cached_file(folder, "openvino-int8") is None
    assert backends.needs_pytorch_model(folder, "openvino-int8")
    StanceClassifier.from_pretrained(folder, backend="openvino")  # converted again, for the new folder
    assert backends.cached_file(folder, "openvino") is not None
    # Converting again dropped the int8 file's record (it was made from the old fp32 model).
    assert "openvino-int8" not in json.loads((folder / "openvino" / "export.json").read_text())
    # A new conversion recipe (format) makes every older file stale too.
    monkeypatch.setitem(backends.ARTIFACTS, "openvino", replace(backends.ARTIFACTS["openvino"], format=99))
    assert backends.cached_file(folder, "openvino") is None


def test_openvino_int8_is_calibrated_recorded_and_reused(ov_model_dir, clf, tmp_path, monkeypatch):
    folder = _copy(ov_model_dir, tmp_path)
    cache = folder / "openvino"
    assert (cache / "model.int8.bin").stat().st_size < (cache / "model.bin").stat().st_size / 2  # int8 weights
    calibration = json.loads((cache / "export.json").read_text())["openvino-int8"]["calibration"]
    # TRAIN has fewer pairs than the default subset (300), so all of them calibrate, in order.
    assert len(TRAIN) < ov_backend.CALIBRATION_SUBSET
    text = json.dumps([list(p) for p in TRAIN], ensure_ascii=False).encode()
    assert calibration == {"pairs": len(TRAIN), "sha256": hashlib.sha256(text).hexdigest()}

    import nncf

    monkeypatch.setattr(nncf, "quantize", _refuse("quantised again"))
    int8 = StanceClassifier.from_pretrained(folder, backend="openvino-int8", batch_size=7)  # no pairs: the cache
    assert int8.backend == "openvino-int8" and int8.precision == "int8"
    agreement = np.mean(np.array(int8.predict(PAIRS)) == np.array(clf.predict(PAIRS)))
    assert agreement >= 0.9, agreement  # measured 1.0: quantisation error is far below this model's margins
    logits = int8.predict_logits(PAIRS)
    assert not np.allclose(logits, clf.predict_logits(PAIRS), atol=1e-6), "int8 ran the fp32 model"
    # The same pairs again: still the cached file.
    StanceClassifier.from_pretrained(folder, backend="openvino-int8", calibration_pairs=TRAIN)
    monkeypatch.undo()

    # Other pairs (a seeded sample of 50): quantised again, and the manifest says so.
    ov_backend.quantize_openvino(folder, TRAIN[::-1], subset_size=50)
    again = json.loads((cache / "export.json").read_text())["openvino-int8"]["calibration"]
    assert again["pairs"] == 50 and again["sha256"] != calibration["sha256"]


def test_openvino_int8_without_calibration_says_how(ov_model_dir, tmp_path, monkeypatch):
    folder = _copy(ov_model_dir, tmp_path, with_cache=False)
    # The error comes before anything is loaded: the fix is the caller's.
    monkeypatch.setattr(classifier.AutoModelForSequenceClassification, "from_pretrained", _refuse("loaded torch"))
    with pytest.raises(ValueError, match=r"calibration_pairs=.*quantize_openvino"):
        StanceClassifier.from_pretrained(folder, backend="openvino-int8")
    with pytest.raises(ValueError, match="calibration_pairs is for the openvino-int8 backend"):
        StanceClassifier.from_pretrained(folder, backend="openvino", calibration_pairs=TRAIN)
    assert not (folder / "openvino").exists()
    for bad, problem in [([], "none given"), ([("a", "")], "calibration pair 0"), ("a text", "expected a sequence")]:
        with pytest.raises(ValueError, match=problem):
            ov_backend.quantize_openvino(folder, bad)


def test_missing_openvino_names_the_extra(stance_model_dir, tmp_path, monkeypatch):
    folder = _copy(stance_model_dir, tmp_path, with_cache=False)
    import openvino

    monkeypatch.setitem(sys.modules, "openvino", None)  # `import openvino` now fails, as when not installed
    with pytest.raises(ImportError, match=r"pip install 'stancekit\[openvino\]' \(openvino is missing\)"):
        StanceClassifier.from_pretrained(folder, backend="openvino")
    monkeypatch.setitem(sys.modules, "openvino", openvino)  # the same module back (a second import would differ)
    monkeypatch.setitem(sys.modules, "nncf", None)
    with pytest.raises(ImportError, match=r"stancekit\[openvino\].*nncf is missing"):
        ov_backend.quantize_openvino(folder, TRAIN)


def test_read_only_folder_caches_under_the_user_cache(stance_model_dir, clf, tmp_path, monkeypatch):
    folder = _copy(stance_model_dir, tmp_path, with_cache=False)
    before = sorted(p.name for p in folder.iterdir())
    # Tests run as root, for whom every folder is writable: the check itself says no for the model folder.
    monkeypatch.setattr(backends, "_writable", lambda path: not str(path).startswith(str(folder.resolve())))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ov_clf = StanceClassifier.from_pretrained(folder, backend="openvino", batch_size=7, precision="fp32")
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written into the model folder
    cached = backends.cached_file(folder, "openvino")
    assert cached is not None and cached.parent.parent == tmp_path / "cache" / "stancekit" / "openvino"
    assert cached.with_suffix(".bin").is_file()
    np.testing.assert_allclose(ov_clf.predict_logits(PAIRS), clf.predict_logits(PAIRS), atol=1e-5)
    monkeypatch.setattr(ov_backend, "convert_openvino", _refuse("converted again"))
    StanceClassifier.from_pretrained(folder, backend="openvino")


@pytest.mark.parametrize("backend", ["openvino", "openvino-int8"])
def test_predict_and_predict_proba_keep_the_labels_contract(ov_model_dir, tmp_path, backend):
    folder = _copy(ov_model_dir, tmp_path)
    update_metadata(folder, temperature=2.5)
    c = StanceClassifier.from_pretrained(folder, backend=backend, batch_size=7, precision="auto")
    assert c.temperature == 2.5
    logits = c.predict_logits(PAIRS)
    probs = c.predict_proba(PAIRS)
    assert probs.shape == (len(PAIRS), len(LABELS))
    expected = np.exp(logits / 2.5) / np.exp(logits / 2.5).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    labels = c.predict(PAIRS)
    assert labels == [LABELS[int(i)] for i in probs.argmax(axis=1)]
    uncalibrated = StanceClassifier.from_pretrained(folder, backend=backend, batch_size=7, calibrated=False)
    assert uncalibrated.predict(PAIRS) == labels  # temperature changes confidence, never the label
    results = c.classify(PAIRS, min_confidence=float(np.median(probs.max(axis=1))))
    assert [r.label for r in results] == labels
    assert 0 < sum(r.abstained for r in results) < len(PAIRS)


@pytest.mark.skipif(not cpu_has_native_bf16(), reason="OpenVINO's bf16 needs a CPU with native bf16")
def test_openvino_bf16_checked_recomputes_the_close_calls_in_fp32(ov_model_dir, tmp_path):
    folder = _copy(ov_model_dir, tmp_path)
    fp32 = StanceClassifier.from_pretrained(folder, backend="openvino", batch_size=7, precision="fp32")
    exact = fp32.predict_logits(PAIRS)
    bf16 = StanceClassifier.from_pretrained(folder, backend="openvino", batch_size=7, precision="bf16")
    rounded = bf16.predict_logits(PAIRS)
    assert not np.allclose(rounded, exact, atol=1e-6), "bf16 did not run"
    checked = StanceClassifier.from_pretrained(folder, backend="openvino", batch_size=7)  # auto
    assert checked.precision == "bf16-checked"
    top2 = np.sort(rounded, axis=1)[:, -2:]
    margins = top2[:, 1] - top2[:, 0]
    checked.recheck_margin = float(np.median(margins))  # so both kinds of pair occur in this tiny model
    close = margins < checked.recheck_margin
    assert 0 < close.sum() < len(PAIRS)
    got = checked.predict_logits(PAIRS)
    np.testing.assert_allclose(got[close], exact[close], atol=1e-5)  # close calls: fp32's logits
    np.testing.assert_allclose(got[~close], rounded[~close], atol=1e-6)  # clear ones keep bf16's


def test_openvino_precisions_follow_the_hardware(monkeypatch):
    from stancekit.infer import precision

    cpu = torch.device("cpu")
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    assert resolve_inference_precision("auto", "openvino", cpu) == "bf16-checked"
    assert resolve_inference_precision("bf16", "openvino", cpu) == "bf16"
    assert resolve_inference_precision("auto", "openvino-int8", cpu) == "int8"
    with pytest.raises(ValueError, match="sets its own"):
        resolve_inference_precision("bf16", "openvino-int8", cpu)
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    assert resolve_inference_precision("auto", "openvino", cpu) == "fp32"  # labels equal to fp32's either way
    with pytest.raises(ValueError, match="needs a CPU with native bf16"):
        resolve_inference_precision("bf16-checked", "openvino", cpu)


def test_openvino_backends_are_listed_and_run_on_the_cpu(ov_model_dir):
    assert {"openvino", "openvino-int8"} <= set(backends.BACKENDS)
    with pytest.raises(ValueError, match="backend must be one of .*openvino, openvino-int8"):
        StanceClassifier.from_pretrained(ov_model_dir, backend="openvino-fp16")
    with pytest.raises(ValueError, match="runs on the CPU"):
        StanceClassifier.from_pretrained(ov_model_dir, backend="openvino", device="cuda")


def test_openvino_caps_its_shape_cache_as_onednn_is(ov_model_dir, clf, tmp_path, monkeypatch):
    # Without a cap in the process the plugin keeps its own default (the server's choice).
    monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", raising=False)
    assert "CPU_RUNTIME_CACHE_CAPACITY" not in ov_backend.compile_config(2, "fp32")
    # evaluate/predict/train cap oneDNN's cache (limit_kernel_cache): the plugin's is capped alike.
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")
    config = ov_backend.compile_config(2, "fp32")
    assert config["CPU_RUNTIME_CACHE_CAPACITY"] == 64 and config["INFERENCE_NUM_THREADS"] == 2
    # The plugin accepts the setting, and the capped model still computes what PyTorch does.
    capped = StanceClassifier.from_pretrained(_copy(ov_model_dir, tmp_path), backend="openvino", precision="fp32")
    np.testing.assert_allclose(capped.predict_logits(PAIRS), clf.predict_logits(PAIRS), atol=1e-5)
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "lots")
    with pytest.raises(ValueError, match="ONEDNN_PRIMITIVE_CACHE_CAPACITY must be a whole number, not 'lots'"):
        ov_backend.compile_config(2, "fp32")
