"""The fast paths give the same answers as the slow ones (correctness only; speed is bench/'s job).

Length-sorted batching returns results in input order and equal to one-by-one predictions; the ONNX fp32
backend computes what PyTorch computes, int8 gives valid probabilities, both keep labels and temperature;
streaming ``predict_file`` writes every line in order; fixed-length padding exists only as the benchmark
option; and the two bench scripts still run (on a tiny slice, with a tiny model).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import SAMPLE_DIR, compose_config, tiny_train_overrides
from stancekit import LABELS, StanceClassifier
from stancekit.artifacts import update_metadata
from stancekit.cli import PROJECT_ROOT
from stancekit.config import ModelConfig
from stancekit.inference import RECHECK_MARGIN, default_num_threads, resolve_inference_precision
from stancekit.modeling import build_model, load_tokenizer
from stancekit.scoring import load_classifier, predict_file
from stancekit.training import collator, cpu_has_native_bf16, resolve_precision, tokenize

pytest.importorskip("onnxruntime")
from stancekit import onnx_backend  # noqa: E402


def _sample_pairs() -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in (SAMPLE_DIR / "test.jsonl").read_text().splitlines()]
    pairs = [(r["premise"], r["hypothesis"]) for r in rows]
    random.Random(0).shuffle(pairs)  # so input order is not length order
    return pairs


PAIRS = _sample_pairs()


@pytest.fixture(scope="module")
def stance_dir(tiny_model_dir, tmp_path_factory):
    """The tiny random BERT with a fresh 3-way head and our labels, saved as a model folder (not trained)."""
    folder = tmp_path_factory.mktemp("tiny-stance")
    cfg = ModelConfig(name_or_path=str(tiny_model_dir), max_length=64)
    torch.manual_seed(1)
    build_model(cfg).save_pretrained(folder)
    load_tokenizer(cfg).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def clf(stance_dir):
    # fp32 explicitly: these tests compare exact numbers, and precision="auto" is bf16 on some CPUs.
    return StanceClassifier.from_pretrained(stance_dir, device="cpu", batch_size=7, precision="fp32")


# ---------------------------------------------------------------------------------------------- wrapper
def test_sorted_batches_come_back_in_input_order_and_equal_one_by_one(clf):
    lengths = [len(clf.tokenizer(p, h)["input_ids"]) for p, h in PAIRS]
    assert lengths != sorted(lengths), "the test needs pairs that sorting reorders"
    batched = clf.predict_logits(PAIRS)
    one_by_one = np.stack([clf.predict_logits([pair])[0] for pair in PAIRS])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    assert clf.predict(PAIRS) == [LABELS[int(i)] for i in one_by_one.argmax(axis=1)]
    # Another batch size forms other batches, with the same answers.
    np.testing.assert_allclose(clf.predict_logits(PAIRS, batch_size=64), batched, atol=1e-5)


def test_thread_count_is_an_option(stance_dir):
    before = torch.get_num_threads()
    try:
        assert 1 <= default_num_threads() <= (os.cpu_count() or 1)
        one = StanceClassifier.from_pretrained(stance_dir, device="cpu", num_threads=1)
        assert one.num_threads == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_bf16_checked_recomputes_the_close_calls_in_fp32(stance_dir, clf):
    exact = clf.predict_logits(PAIRS)
    bf16 = StanceClassifier.from_pretrained(stance_dir, device="cpu", batch_size=7, precision="bf16")
    rounded = bf16.predict_logits(PAIRS)
    assert not np.allclose(rounded, exact, atol=1e-6), "bf16 did not run"
    top2 = np.sort(rounded, axis=1)[:, -2:]
    margins = top2[:, 1] - top2[:, 0]
    checked = StanceClassifier.from_pretrained(stance_dir, device="cpu", batch_size=7, precision="bf16-checked")
    assert checked.recheck_margin == RECHECK_MARGIN
    checked.recheck_margin = float(np.median(margins))  # so both kinds of pair occur in this tiny model
    close = margins < checked.recheck_margin
    assert 0 < close.sum() < len(PAIRS)
    got = checked.predict_logits(PAIRS)
    # Close calls carry fp32 logits (so fp32's labels), clear ones keep bf16's, in input order either way.
    np.testing.assert_allclose(got[close], exact[close], atol=1e-5)
    np.testing.assert_array_equal(got[~close], rounded[~close])
    assert (got.argmax(axis=1) == exact.argmax(axis=1))[close].all()


def test_bf16_checked_switches_to_fp32_when_close_calls_dominate(stance_dir, clf):
    from stancekit.inference import MIN_PAIRS_BEFORE_SWITCH

    pairs = PAIRS * 3  # enough pairs to pass the minimum before switching
    checked = StanceClassifier.from_pretrained(stance_dir, device="cpu", batch_size=7, precision="bf16-checked")
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


def test_inference_precision_auto_follows_the_hardware(monkeypatch, stance_dir):
    from stancekit import inference

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(inference, "cpu_has_native_bf16", lambda: True)
    assert resolve_inference_precision("auto", "torch", cpu) == "bf16-checked"
    assert resolve_inference_precision("auto", "torch", cuda) == "fp32"
    assert resolve_inference_precision("auto", "onnx-int8", cpu) == "int8"
    monkeypatch.setattr(inference, "cpu_has_native_bf16", lambda: False)
    assert resolve_inference_precision("auto", "torch", cpu) == "fp32"
    assert resolve_inference_precision("bf16", "torch", cpu) == "bf16"  # asked for: runs, emulated if need be
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_inference_precision("half", "torch", cpu)
    with pytest.raises(ValueError, match="needs the torch backend"):
        resolve_inference_precision("bf16", "onnx", cpu)
    # scripts/predict.py and scripts/evaluate.py pass their `precision` through.
    cfg = compose_config("predict", [f"model_dir={stance_dir}", "input=x", "output=y", "precision=bf16"])
    assert load_classifier(cfg).precision == "bf16"
    assert compose_config("evaluate", [f"model_dir={stance_dir}"]).precision == "auto"


# ---------------------------------------------------------------------------------------------- ONNX
def test_onnx_fp32_agrees_with_torch_and_is_cached(stance_dir, clf, monkeypatch):
    onnx_clf = StanceClassifier.from_pretrained(stance_dir, backend="onnx", batch_size=7)
    assert onnx_clf.backend == "onnx" and onnx_clf.labels == clf.labels
    np.testing.assert_allclose(onnx_clf.predict_logits(PAIRS), clf.predict_logits(PAIRS), atol=1e-4)
    np.testing.assert_allclose(onnx_clf.predict_proba(PAIRS), clf.predict_proba(PAIRS), atol=1e-4)
    assert onnx_clf.predict(PAIRS) == clf.predict(PAIRS)
    assert (stance_dir / "onnx" / "model.onnx").is_file() and (stance_dir / "onnx" / "export.json").is_file()

    # The second load uses the cached file: exporting again would fail here.
    def no_export(*args, **kwargs):
        raise AssertionError("exported again although the cache is current")

    monkeypatch.setattr(onnx_backend, "export_onnx", no_export)
    StanceClassifier.from_pretrained(stance_dir, backend="onnx")


def test_onnx_int8_gives_valid_probabilities(stance_dir):
    int8 = StanceClassifier.from_pretrained(stance_dir, backend="onnx-int8")
    probs = int8.predict_proba(PAIRS)
    assert probs.shape == (len(PAIRS), len(LABELS))
    assert np.all(probs >= 0) and np.all(probs <= 1)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert set(int8.predict(PAIRS)) <= set(LABELS)
    fp32, quantised = stance_dir / "onnx" / "model.onnx", stance_dir / "onnx" / "model.int8.onnx"
    assert quantised.stat().st_size < fp32.stat().st_size  # int8 weights, not a copy


def test_onnx_backends_apply_the_stored_temperature(stance_dir, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(stance_dir, folder, ignore=shutil.ignore_patterns("onnx"))
    update_metadata(folder, temperature=2.5)
    for backend in ("torch", "onnx", "onnx-int8"):
        c = StanceClassifier.from_pretrained(folder, device="cpu", backend=backend)
        assert c.temperature == 2.5
        logits = c.predict_logits(PAIRS[:5]) / 2.5
        expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(c.predict_proba(PAIRS[:5]), expected, atol=1e-6)


def test_onnx_cache_follows_the_model(stance_dir, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(stance_dir, folder)  # with its onnx/ cache
    assert onnx_backend.cached_file(folder, "onnx") is not None
    config = json.loads((folder / "config.json").read_text())
    config["classifier_dropout"] = 0.2  # a changed model folder: the export no longer matches it
    (folder / "config.json").write_text(json.dumps(config))
    assert onnx_backend.cached_file(folder, "onnx") is None
    assert onnx_backend.cached_file(folder, "onnx-int8") is None


def test_backend_option_is_checked(stance_dir):
    with pytest.raises(ValueError, match="backend must be one of"):
        StanceClassifier.from_pretrained(stance_dir, backend="tensorrt")
    with pytest.raises(ValueError, match="runs on the CPU"):
        StanceClassifier.from_pretrained(stance_dir, backend="onnx", device="cuda")


# ---------------------------------------------------------------------------------------------- streaming
@pytest.mark.parametrize("backend", ["torch", "onnx-int8"])
def test_predict_file_streams_every_line_in_order(stance_dir, tmp_path, monkeypatch, backend):
    rows = [{"id": i, "premise": p, "hypothesis": h, "extra": [i]} for i, (p, h) in enumerate(PAIRS[:23])]
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    cfg = compose_config(
        "predict",
        [
            f"model_dir={stance_dir}",
            f"input={inp}",
            f"output={out}",
            f"paths.output_dir={tmp_path}",
            "device=cpu",
            f"backend={backend}",
        ],
    )
    calls = []
    original = StanceClassifier.predict_proba

    def recording(self, pairs, *args, **kwargs):
        calls.append(len(pairs))
        return original(self, pairs, *args, **kwargs)

    monkeypatch.setattr(StanceClassifier, "predict_proba", recording)
    assert predict_file(cfg, chunk_size=5) == 23
    assert calls == [5, 5, 5, 5, 3]  # chunk by chunk, never the whole file at once
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in written] == list(range(23))
    assert [r["extra"] for r in written] == [[i] for i in range(23)]
    monkeypatch.setattr(StanceClassifier, "predict_proba", original)
    expected = StanceClassifier.from_pretrained(stance_dir, device="cpu", backend=backend).predict(PAIRS[:23])
    assert [r["prediction"] for r in written] == expected
    assert not (tmp_path / "out.jsonl.tmp").exists()


def test_predict_file_bad_line_leaves_no_output(stance_dir, tmp_path):
    inp = tmp_path / "in.jsonl"
    good = [json.dumps({"premise": p, "hypothesis": h}) for p, h in PAIRS[:12]]
    inp.write_text("\n".join(good) + '\n{"premise": "only a premise"}\n')
    out = tmp_path / "out.jsonl"
    cfg = compose_config(
        "predict",
        [f"model_dir={stance_dir}", f"input={inp}", f"output={out}", f"paths.output_dir={tmp_path}", "device=cpu"],
    )
    with pytest.raises(ValueError, match=r"line 13.*hypothesis"):
        predict_file(cfg, chunk_size=4)  # chunks were already written when line 13 is read
    assert not out.exists() and not (tmp_path / "out.jsonl.tmp").exists()


# ---------------------------------------------------------------------------------------------- training
def test_padding_is_dynamic_unless_the_benchmark_option_asks(tiny_model_dir, tmp_path):
    from datasets import Dataset

    cfg = compose_config(
        "train", [f"model.name_or_path={tiny_model_dir}", "model.max_length=64", f"paths.output_dir={tmp_path}"]
    )
    tokenizer = load_tokenizer(cfg.model)
    data = Dataset.from_dict(
        {"premise": [p for p, _ in PAIRS[:8]], "hypothesis": [h for _, h in PAIRS[:8]], "label": [0] * 8}
    )
    features = [dict(row) for row in tokenize(data, tokenizer, 64).remove_columns("length")]
    longest = max(len(f["input_ids"]) for f in features)
    assert longest < 64
    assert collator(tokenizer, cfg)(features)["input_ids"].shape == (8, longest)
    cfg.train.pad_to_max_length = True
    assert collator(tokenizer, cfg)(features)["input_ids"].shape == (8, 64)


def test_precision_auto_follows_the_hardware(monkeypatch):
    from stancekit import training

    monkeypatch.setattr(training, "cpu_has_native_bf16", lambda: True)
    assert resolve_precision("auto", "cpu") == {"bf16": True, "fp16": False}
    monkeypatch.setattr(training, "cpu_has_native_bf16", lambda: False)
    assert resolve_precision("auto", "cpu") == {"bf16": False, "fp16": False}
    assert resolve_precision("fp32", "cpu") == {"bf16": False, "fp16": False}
    with pytest.raises(ValueError, match="train.precision"):
        resolve_precision("half", "cpu")


def test_heap_growth_limit_is_an_option():
    from stancekit.system import glibc
    from stancekit.training import limit_heap_growth

    assert limit_heap_growth(None) is False
    assert limit_heap_growth(2.0) is (glibc() is not None)  # applied on Linux/glibc, a no-op elsewhere
    with pytest.raises(ValueError, match="malloc_mmap_threshold_mb"):
        limit_heap_growth(0)


def test_onednn_kernel_cache_is_capped_unless_the_user_set_it(monkeypatch):
    from stancekit.training import limit_kernel_cache

    monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", raising=False)
    assert limit_kernel_cache(None) is False and "ONEDNN_PRIMITIVE_CACHE_CAPACITY" not in os.environ
    with pytest.raises(ValueError, match="onednn_cache_capacity"):
        limit_kernel_cache(-1)
    assert limit_kernel_cache(64) is True and os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "64"
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8")  # the user's own value wins
    assert limit_kernel_cache(64) is False and os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "8"


def test_heap_is_trimmed_every_n_steps_when_asked(tiny_model_dir, tmp_path, monkeypatch):
    import stancekit.training as training

    with pytest.raises(ValueError, match="malloc_trim_steps"):
        training.HeapTrimCallback(0)

    class FakeLibc:  # stands in for glibc, so the call count is seen on any platform
        trims = 0

        def malloc_trim(self, pad):
            FakeLibc.trims += 1

        def mallopt(self, param, value):
            return 1

    monkeypatch.setattr(training, "glibc", FakeLibc)
    base = ["train.max_steps=4", "train.batch_size=4", "train.gradient_accumulation_steps=1", "run_test=false"]
    off = [*base, "train.malloc_trim_steps=null"]
    training.train(compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path / "a", off)))
    untrimmed = FakeLibc.trims  # release_training_memory's one trim after training
    overrides = [*base, "train.malloc_trim_steps=2"]
    training.train(compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path / "b", overrides)))
    assert FakeLibc.trims - untrimmed == untrimmed + 2  # the same, plus one trim at steps 2 and 4


def test_split_batch_keeps_every_row_within_the_token_budget():
    from stancekit.training import split_batch

    batch = {"input_ids": torch.arange(16 * 10).view(16, 10), "labels": torch.arange(16), "flag": 1}
    assert split_batch(batch, None) == [batch] and split_batch(batch, 160) == [batch]
    chunks = split_batch(batch, 70)  # 7 rows of 10 tokens fit: 3 chunks, spread evenly
    assert [len(c["labels"]) for c in chunks] == [5, 5, 6]
    assert all(c["input_ids"].numel() <= 70 and c["flag"] == 1 for c in chunks)
    assert torch.equal(torch.cat([c["input_ids"] for c in chunks]), batch["input_ids"])
    assert torch.equal(torch.cat([c["labels"] for c in chunks]), batch["labels"])
    # A single pair longer than the budget still runs, alone.
    assert [len(c["labels"]) for c in split_batch(batch, 5)] == [1] * 16


def test_token_budget_splits_long_micro_batches_into_the_same_step(tiny_model_dir, tmp_path, monkeypatch):
    from safetensors.torch import load_file

    from stancekit import training

    # No dropout, so the split and unsplit runs see the same function and must end at the same weights.
    base_dir = tmp_path / "base"
    shutil.copytree(tiny_model_dir, base_dir)
    config = json.loads((base_dir / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (base_dir / "config.json").write_text(json.dumps(config))
    chunk_counts = []
    real_split = training.split_batch

    def spy(inputs, max_tokens):
        chunks = real_split(inputs, max_tokens)
        chunk_counts.append(len(chunks))
        return chunks

    monkeypatch.setattr(training, "split_batch", spy)
    common = [
        "train.max_steps=3",
        "train.batch_size=8",
        "train.gradient_accumulation_steps=2",
        "train.precision=fp32",
        "train.calibrate=false",
        "run_test=false",
    ]
    weights = {}
    for name, budget in (("whole", "null"), ("split", "40")):
        overrides = [*common, f"train.max_tokens_per_micro_batch={budget}"]
        training.train(compose_config("train", tiny_train_overrides(base_dir, tmp_path / name, overrides)))
        weights[name] = load_file(tmp_path / name / "model" / "model.safetensors")
    assert chunk_counts[:6] == [1] * 6 and min(chunk_counts[6:]) >= 2  # the second run split every batch
    assert weights["whole"].keys() == weights["split"].keys()
    for key, value in weights["whole"].items():
        torch.testing.assert_close(weights["split"][key], value, atol=1e-5, rtol=1e-4, msg=key)
    with pytest.raises(ValueError, match="max_tokens_per_micro_batch"):
        training.StanceTrainer(model=torch.nn.Linear(1, 1), max_tokens_per_micro_batch=0)


def test_word_embeddings_stay_fixed_unless_asked_to_train(tiny_model_dir, tmp_path):
    from safetensors.torch import load_file

    from stancekit import training

    base = load_file(tiny_model_dir / "model.safetensors")
    key = next(k for k in base if k.endswith("word_embeddings.weight"))
    common = ["train.max_steps=2", "train.calibrate=false", "run_test=false"]
    for frozen in (True, False):
        run = tmp_path / str(frozen)
        overrides = [*common, f"train.freeze_word_embeddings={str(frozen).lower()}"]
        training.train(compose_config("train", tiny_train_overrides(tiny_model_dir, run, overrides)))
        tuned = load_file(run / "model" / "model.safetensors")
        tuned_key = next(k for k in tuned if k.endswith("word_embeddings.weight"))
        assert torch.equal(tuned[tuned_key], base[key]) == frozen
        # Everything else trains either way (the position embeddings, for one).
        position = next(k for k in tuned if k.endswith("position_embeddings.weight"))
        assert not torch.equal(tuned[position], base[position.removeprefix("bert.")])


def test_peak_memory_is_this_process_high_water_mark():
    from stancekit.system import peak_rss_mb

    before = peak_rss_mb()
    block = np.ones(64 * 1024 * 1024 // 8)  # 64 MiB, touched
    assert peak_rss_mb() >= before and peak_rss_mb() > 64
    del block


def test_bf16_trains_on_the_cpu_with_device_auto(tiny_model_dir, tmp_path):
    """bf16 autocast on a CPU-only machine with train.device=auto: the Trainer refuses bf16 without use_cpu."""
    if torch.cuda.is_available():
        pytest.skip("checks the CPU path")
    from stancekit.training import train, training_arguments

    overrides = ["train.device=auto", "train.precision=bf16", "train.max_steps=2", "run_test=false"]
    cfg = compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path, overrides))
    args = training_arguments(cfg.train, tmp_path / "checkpoints")
    assert args.bf16 and args.use_cpu
    metrics = train(cfg)
    assert 0 <= metrics["macro_f1"] <= 1
    # Autocast only: the saved weights stay fp32, so plain transformers loads them as usual.
    model = StanceClassifier.from_pretrained(tmp_path / "model").model
    assert {p.dtype for p in model.parameters()} == {torch.float32}


# ---------------------------------------------------------------------------------------------- bench scripts
def _run(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_bench_inference_runs_on_a_tiny_slice(stance_dir, tmp_path):
    out = tmp_path / "inference.json"
    done = _run(
        [
            "bench/inference.py",
            "--model-dir",
            str(stance_dir),
            "--data",
            "sample",
            "--limit",
            "64",
            "--repeats",
            "1",
            "--threads",
            "1",
            "--json",
            str(out),
        ]
    )
    result = json.loads(out.read_text())
    rows = {r["variant"]: r for r in result["rows"]}
    assert list(rows) == ["pipeline", "loop", "ours-fp32", "ours", "onnx", "onnx-int8"]
    assert rows["ours-fp32"]["precision"] == "fp32" and rows["onnx-int8"]["precision"] == "int8"
    assert result["pairs"] == 60  # the sample's whole test set
    for r in rows.values():
        assert r["pairs_per_second"] > 0 and r["peak_rss_mb"] > 0 and 0 <= r["accuracy"] <= 1
    # Same model, same labels: the baseline, the plain loop, our default and fp32 ONNX agree with fp32.
    for name in ("pipeline", "loop", "ours-fp32", "ours", "onnx"):
        assert rows[name]["agreement"] == 1.0, name
    assert "| pipeline |" in done.stdout and "1.00×" in done.stdout


def test_bench_inference_says_how_to_make_a_missing_model(tmp_path):
    missing = tmp_path / "no-model"
    done = subprocess.run(
        [sys.executable, "bench/inference.py", "--model-dir", str(missing)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert f"no saved model at {missing}" in done.stderr and "scripts/train.py experiment=nli_mix" in done.stderr


def test_bench_inference_profile_names_the_operators(stance_dir):
    args = ["--profile", "--model-dir", str(stance_dir), "--data", "sample", "--limit", "32"]
    done = _run(["bench/inference.py", *args])
    assert "aten::addmm" in done.stdout and "Self CPU" in done.stdout


def test_bench_train_runs_on_a_tiny_slice(tiny_model_dir, tmp_path):
    out = tmp_path / "train.json"
    _run(
        [
            "bench/train.py",
            "--experiment",
            "",
            "--model",
            str(tiny_model_dir),
            "--steps",
            "2",
            "--batch-size",
            "8",
            "--json",
            str(out),
        ]
    )
    rows = {r["row"]: r for r in json.loads(out.read_text())["rows"]}
    assert list(rows) == ["pad128", "dynamic", "grouped_fp32", "grouped"]
    assert rows["pad128"]["max_length"] == 128 and rows["pad128"]["precision"] == "fp32"
    assert rows["grouped"]["precision"] == ("bf16" if cpu_has_native_bf16() else "fp32")
    for r in rows.values():
        per_step = r["batch_size"] * r["gradient_accumulation_steps"]
        assert r["steps"] == 2 and r["examples"] == 2 * per_step and r["examples_per_second"] > 0
        assert r["peak_rss_mb"] >= r["peak_rss_mb_train"] >= r["peak_rss_mb_setup"] > 0
        assert 0 <= r["val_macro_f1"] <= 1


def test_bench_train_phases_account_for_the_whole_run(tiny_model_dir, tmp_path):
    out = tmp_path / "train.json"
    args = ["--experiment", "", "--model", str(tiny_model_dir), "--steps", "2", "--batch-size", "8"]
    args += ["--rows", "grouped", "--phases", "--set", "run_test=true", "--json", str(out)]
    done = _run(["bench/train.py", *args])
    (row,) = json.loads(out.read_text())["rows"]
    names = [p["phase"] for p in row["phases"]]
    # The run in order: setup, the optimiser loop, validation, then the steps after training, each measured.
    assert names[:2] == ["setup", "train"] and "_save_checkpoint" in names
    assert names.index("_save_checkpoint") < names.index("validate") < names.index("release_training_memory")
    for step in ("release_training_memory", "fit_on_dataset", "save_model_atomically", "run_suite", "evaluate_sets"):
        assert step in names and f"after {step}" in names, step
    assert names.index("save_model_atomically") < names.index("evaluate_sets")
    for p in row["phases"]:
        assert p["peak_mb"] >= max(p["rss_start_mb"], p["rss_end_mb"]) - 1 > 0, p  # peaks are each phase's own
    assert row["peak_rss_mb"] == max(p["peak_mb"] for p in row["phases"])
    # Per-step peaks cover the whole loop, and none is above the training phase's peak.
    train_peak = next(p["peak_mb"] for p in row["phases"] if p["phase"] == "train")
    assert [s["step"] for s in row["rss_by_step"]] == [1, 2]
    assert all(0 < s["rss_mb"] <= s["peak_mb"] + 1 for s in row["rss_by_step"])
    assert row["rss_by_step"][0]["peak_mb"] <= train_peak
    assert "| grouped | evaluate_sets | 1 |" in done.stdout
