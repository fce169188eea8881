"""bf16-checked gives fp32's labels; precision=auto follows the hardware."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stancekit import StanceClassifier
from stancekit.infer.precision import RECHECK_MARGIN, resolve_inference_precision
from stancekit.runs.common import load_classifier
from tests.helpers import compose_config, shuffled_sample_pairs

PAIRS = shuffled_sample_pairs()


def test_bf16_checked_recomputes_the_close_calls_in_fp32(stance_model_dir, clf):
    exact = clf.predict_logits(PAIRS)
    bf16 = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", batch_size=7, precision="bf16")
    rounded = bf16.predict_logits(PAIRS)
    assert not np.allclose(rounded, exact, atol=1e-6), "bf16 did not run"
    top2 = np.sort(rounded, axis=1)[:, -2:]
    margins = top2[:, 1] - top2[:, 0]
    checked = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", batch_size=7, precision="bf16-checked")
    assert checked.recheck_margin == RECHECK_MARGIN
    checked.recheck_margin = float(np.median(margins))  # so both kinds of pair occur in this tiny model
    close = margins < checked.recheck_margin
    assert 0 < close.sum() < len(PAIRS)
    got = checked.predict_logits(PAIRS)
    # Close calls carry fp32 logits (so fp32's labels), clear ones keep bf16's, in input order either way.
    np.testing.assert_allclose(got[close], exact[close], atol=1e-5)
    np.testing.assert_array_equal(got[~close], rounded[~close])
    assert (got.argmax(axis=1) == exact.argmax(axis=1))[close].all()


def test_bf16_checked_switches_to_fp32_when_close_calls_dominate(stance_model_dir, clf):
    from stancekit.infer.precision import MIN_PAIRS_BEFORE_SWITCH

    pairs = PAIRS * 3  # enough pairs to pass the minimum before switching
    checked = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", batch_size=7, precision="bf16-checked")
    checked.recheck_margin = float("inf")  # every pair is a close call, as on data the model finds hard
    ran_bf16 = []
    fill = checked._fill_logits

    def spy(out, enc, order, batch_size, bf16):
        ran_bf16.extend([bf16] * len(order))
        return fill(out, enc, order, batch_size, bf16)

    checked._fill_logits = spy
    got = checked.predict_logits(pairs)
    np.testing.assert_allclose(got, clf.predict_logits(pairs), atol=1e-5)  # all of it fp32 in the end
    n_bf16 = sum(ran_bf16)
    assert MIN_PAIRS_BEFORE_SWITCH <= n_bf16 < MIN_PAIRS_BEFORE_SWITCH + 7  # bf16 stopped after the minimum
    assert len(ran_bf16) == len(pairs) + n_bf16  # the rest ran once, in fp32; the bf16 ones were rechecked


def test_inference_precision_auto_follows_the_hardware(monkeypatch, stance_model_dir):
    from stancekit.infer import precision

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    assert resolve_inference_precision("auto", "torch", cpu) == "bf16-checked"
    assert resolve_inference_precision("auto", "torch", cuda) == "fp32"
    assert resolve_inference_precision("auto", "onnx-int8", cpu) == "int8"
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    assert resolve_inference_precision("auto", "torch", cpu) == "fp32"
    assert resolve_inference_precision("bf16", "torch", cpu) == "bf16"  # asked for: runs, emulated if need be
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_inference_precision("half", "torch", cpu)
    with pytest.raises(ValueError, match="needs the torch backend"):
        resolve_inference_precision("bf16", "onnx", cpu)
    # scripts/predict.py and scripts/evaluate.py pass their `precision` through.
    cfg = compose_config("predict", [f"model_dir={stance_model_dir}", "input=x", "output=y", "precision=bf16"])
    assert load_classifier(cfg).precision == "bf16"
    assert compose_config("evaluate", [f"model_dir={stance_model_dir}"]).precision == "auto"


def test_scripts_that_load_a_model_limit_heap_growth_but_the_server_does_not(stance_model_dir, monkeypatch):
    from stancekit.runs import common

    applied = []
    monkeypatch.setattr(common, "limit_heap_growth", lambda mb, setting: applied.append((mb, setting)))
    cfg = compose_config("predict", [f"model_dir={stance_model_dir}", "input=x", "output=y"])
    load_classifier(cfg)
    # As in training: batches of every length would fragment the heap; large blocks by mmap go back at once.
    assert applied == [(2.0, "malloc_mmap_threshold_mb")]
    cfg = compose_config("serve", [f"model_dir={stance_model_dir}"])
    load_classifier(cfg)  # the server's many small passes would page-fault on every activation: off there
    assert applied[-1] == (None, "malloc_mmap_threshold_mb")


def test_bf16_passes_run_a_twin_with_bf16_linear_weights_and_autocasts_logits(stance_model_dir):
    clf = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", batch_size=7, precision="bf16")
    with_twin = clf.predict_logits(PAIRS)
    assert clf._bf16_twin._twin is not None  # the bf16 passes built it
    twin = clf._bf16_twin.get()
    assert twin is clf._bf16_twin.get() and twin is not clf.model  # built once, on the first bf16 pass
    linear = [m for m in twin.modules() if isinstance(m, torch.nn.Linear)]
    assert linear and all(m.weight.dtype == m.bias.dtype == torch.bfloat16 for m in linear)
    assert all(m.weight.dtype == torch.float32 for m in clf.model.modules() if isinstance(m, torch.nn.Linear))
    # Every other parameter is the original's own tensor: shared, not copied.
    originals = dict(clf.model.named_parameters())
    others = [(name, p) for name, p in twin.named_parameters() if p.dtype == torch.float32]
    assert others and all(p is originals[name] for name, p in others)
    # The same logits, bit for bit, as autocast casting the fp32 weights in every pass.
    clf.bf16_weight_copy = False
    np.testing.assert_array_equal(clf.predict_logits(PAIRS), with_twin)
    # fp32 passes never build it.
    fp32 = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", precision="fp32")
    fp32.predict_logits(PAIRS)
    assert fp32._bf16_twin._twin is None
