"""The bench scripts still run, on a tiny slice with a tiny model.

Each whole-bench run is a minute or more of subprocesses on 2 cores, so it is marked slow: `make test` stays
under 10 minutes and `.ci/run` still runs them (`make test-slow ARGS="tests/integration"`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from stancekit.config import PROJECT_ROOT
from stancekit.system import cpu_has_native_bf16
from stancekit.version import source_commit

pytest.importorskip("onnxruntime")  # the [onnx] extra (make install has it)


def _run(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_bench_peak_takes_each_precision_at_its_best_library(tmp_path):
    out = tmp_path / "peak.json"
    done = _run(["bench/peak.py", "--seconds", "0.01", "--shapes", "minilm_ffn", "--json", str(out)])
    result = json.loads(out.read_text())
    rows = result["tflops"]
    # PyTorch, ONNX Runtime and OpenVINO kernels each measured; bf16 through OpenVINO only where it is native.
    expected = ["fp32", "bf16", "int8", "fp32-ort", "int8-ort", "fp32-ov"] + (
        ["bf16-ov"] if cpu_has_native_bf16() else []
    )
    assert list(rows) == expected
    for base in ("fp32", "bf16", "int8"):
        best = max(v for name, by_shape in rows.items() if name.partition("-")[0] == base for v in by_shape.values())
        assert result["peak"][base] == best > 0
    assert "bold: the precision's peak" in done.stdout


@pytest.mark.slow
def test_bench_inference_runs_on_a_tiny_slice(stance_model_dir, tmp_path):
    out = tmp_path / "inference.json"
    done = _run(
        [
            "bench/inference.py",
            "--model-dir",
            str(stance_model_dir),
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
            "--peak-seconds",
            "0.02",
        ]
    )
    result = json.loads(out.read_text())
    rows = {r["variant"]: r for r in result["rows"]}
    # MFU: the model's FLOP/s over the peak of its precision, both measured in this run.
    assert set(result["peak"]["peak"]) == {"fp32", "bf16", "int8"}
    for r in rows.values():
        assert r["model_tflops"] > 0 and 0 < r["mfu"] < 1.5, r
    assert rows["onnx-int8"]["mfu_of"] == "int8" and rows["ours-fp32"]["mfu_of"] == "fp32"
    assert rows["onnx-int8-static"]["mfu_of"] == "int8"
    # openvino-bf16 runs only on CPUs with native bf16; elsewhere it is skipped with a note, not left out silently.
    bf16 = ["openvino-bf16"] if cpu_has_native_bf16() else []
    assert list(rows) == [
        "pipeline",
        "loop",
        "ours-fp32",
        "ours",
        "ours-pad16",
        "ours-recast",
        "onnx",
        "onnx-int8",
        "onnx-int8-static",
        "openvino",
        *bf16,
        "openvino-int8",
    ]
    assert result["skipped"] == ({} if bf16 else {"openvino-bf16": "this CPU has no native bf16 (AVX-512 BF16 or AMX)"})
    assert rows["ours-fp32"]["precision"] == "fp32" and rows["onnx-int8"]["precision"] == "int8"
    assert rows["openvino"]["precision"] == "fp32" and rows["openvino-int8"]["mfu_of"] == "int8"
    assert result["pairs"] == 60  # the sample's whole test set
    # ours-recast differs from ours only by where the bf16 weights come from: the same logits, the same labels.
    assert rows["ours-recast"]["predicted"] == rows["ours"]["predicted"]
    assert rows["ours-recast"]["agreement"] == rows["ours"]["agreement"]
    for r in rows.values():
        assert r["pairs_per_second"] > 0 and r["peak_rss_mb"] > 0 and 0 <= r["accuracy"] <= 1
    # Same model, same labels: the baseline, the plain loop, our default, fp32 ONNX and OpenVINO (fp32 and
    # bf16-checked) agree with fp32.
    for name in ("pipeline", "loop", "ours-fp32", "ours", "ours-pad16", "onnx", "openvino", *bf16):
        assert rows[name]["agreement"] == 1.0, name
    assert "| pipeline |" in done.stdout and "1.00×" in done.stdout and "| bf16 |" in done.stdout


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


def test_bench_inference_profile_names_the_operators(stance_model_dir):
    args = ["--profile", "--model-dir", str(stance_model_dir), "--data", "sample", "--limit", "32"]
    done = _run(["bench/inference.py", *args])
    assert "aten::addmm" in done.stdout and "Self CPU" in done.stdout


@pytest.mark.slow
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
            "--peak-seconds",
            "0.02",
        ]
    )
    result = json.loads(out.read_text())
    rows = {r["row"]: r for r in result["rows"]}
    assert set(result["peak"]["peak"]) == {"fp32", "bf16"}
    assert list(rows) == ["pad128", "dynamic", "grouped_fp32", "grouped", "grouped_pad16", "grouped_torch_dropout"]
    assert rows["pad128"]["max_length"] == 128 and rows["pad128"]["precision"] == "fp32"
    assert rows["grouped"]["precision"] == ("bf16" if cpu_has_native_bf16() else "fp32")
    for r in rows.values():
        per_step = r["batch_size"] * r["gradient_accumulation_steps"]
        assert r["steps"] == 2 and r["examples"] == 2 * per_step and r["examples_per_second"] > 0
        assert r["peak_rss_mb"] >= r["peak_rss_mb_train"] >= r["peak_rss_mb_setup"] > 0
        assert 0 <= r["val_macro_f1"] <= 1
        # MFU counts the real tokens of the optimiser steps' forward passes; padding is counted apart.
        assert 0 < r["train_tokens"] <= r["padded_tokens"] and r["model_tflops"] > 0 and 0 < r["mfu"] < 1.5
    assert rows["pad128"]["padded_tokens"] == rows["pad128"]["examples"] * 128
    assert rows["dynamic"]["padded_tokens"] < rows["pad128"]["padded_tokens"]
    # The same batches as grouped (same seed), each rounded up to a multiple of 16 tokens.
    assert rows["grouped_pad16"]["padded_tokens"] % 16 == 0
    assert rows["grouped_pad16"]["padded_tokens"] >= rows["grouped"]["padded_tokens"]
    # PyTorch's dropout masks instead of NumPy's: the same batches, other masks.
    assert rows["grouped_torch_dropout"]["padded_tokens"] == rows["grouped"]["padded_tokens"]


def test_bench_step_sorts_profiled_operators_into_families():
    spec = importlib.util.spec_from_file_location("bench_step", PROJECT_ROOT / "bench" / "step.py")
    step = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(step)
    assert step.family_of("aten::addmm") == step.family_of("aten::bmm") == "matrix products"
    assert step.family_of("aten::_scaled_dot_product_flash_attention_for_cpu") == "matrix products"  # a prefix
    assert step.family_of("aten::mm_backward") == "other operators"  # exact names are exact
    assert step.family_of("aten::_fused_adamw_") == step.family_of("aten::_foreach_add_") == "optimiser"
    assert step.family_of("aten::native_layer_norm_backward") == "layer norm"
    assert step.family_of("aten::embedding_dense_backward") == "embeddings and loss"
    assert step.family_of("autograd::engine::evaluate_function: MmBackward0") == "other operators"


def test_bench_jsons_name_the_commit_they_measured(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_results", PROJECT_ROOT / "bench" / "results.py")
    results = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(results)
    stamp = results.inference_bench.provenance("bench/train.py", ["--rows", "grouped", "--set", "a=b c"])
    assert stamp["command"] == "python bench/train.py --rows grouped --set 'a=b c'"
    assert stamp["commit"] == source_commit() and stamp["date"].endswith("+00:00")
    assert stamp["machine"]["logical_cpus"] == os.cpu_count()
    # A record keeps the commit the bench measured, not the one checked out when it is recorded.
    bench_json = tmp_path / "train.json"
    bench_json.write_text(json.dumps({**stamp, "commit": "abc1234", "rows": []}))
    assert results.bench_record(bench_json, "t")["commit"] == "abc1234"
    # A JSON from before the benches wrote one gets the checkout's.
    bench_json.write_text(json.dumps({k: v for k, v in stamp.items() if k != "commit"} | {"rows": []}))
    assert results.bench_record(bench_json, "t")["commit"] == results.commit()


@pytest.mark.slow
def test_bench_step_alternates_both_variants_on_the_same_inputs(tiny_model_dir, tmp_path):
    out = tmp_path / "step.json"
    args = ["--models", str(tiny_model_dir), "--shapes", "4x12x2,2x20x1", "--steps", "3", "--warmup-steps", "1"]
    args += ["--profile", "--profile-steps", "2", "--peak-seconds", "0.01"]
    done = _run(["bench/step.py", *args, "--json", str(out)])
    result = json.loads(out.read_text())
    assert result["command"].startswith("python bench/step.py --models") and result["steps"] == 3
    assert [(r["rows"], r["length"], r["accumulation"]) for r in result["rows"]] == [(4, 12, 2), (2, 20, 1)]
    for r in result["rows"]:
        assert r["precision"] == ("bf16" if cpu_has_native_bf16() else "fp32")
        for variant in ("torch_dropout", "fast_dropout"):
            assert 0 < r[variant]["min_ms"] <= r[variant]["median_ms"] and r[variant]["model_tflops"] > 0
        assert r["speedup"] == pytest.approx(r["torch_dropout"]["median_ms"] / r["fast_dropout"]["median_ms"])
        # --profile: the step's wall time split into operator families (whole), the products' FLOP/s against
        # the peak of the step's precision measured in the same run.
        p = r["profile"]
        assert p["steps"] == 2 and p["step_ms"] > 0 and p["model_tflops"] > 0
        assert sum(p["share"].values()) == pytest.approx(1.0)
        assert p["share"]["matrix products"] > 0 and p["share"]["optimiser"] > 0 and p["share"]["layer norm"] > 0
        assert p["matrix_products_tflops"] > 0 and p["peak_tflops"] == result["peak_tflops"][r["precision"]] > 0
        assert p["matrix_products_of_peak"] == pytest.approx(p["matrix_products_tflops"] / p["peak_tflops"])
    assert "| 4 × 12 × 2 |" in done.stdout and "speed-up" in done.stdout
    assert "Where the recipe's step goes" in done.stdout and "products TFLOP/s (of peak)" in done.stdout
    with pytest.raises(subprocess.CalledProcessError):
        subprocess.run(
            [sys.executable, "bench/step.py", "--shapes", "16x40"], cwd=PROJECT_ROOT, check=True, capture_output=True
        )


@pytest.mark.slow
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


@pytest.mark.slow
def test_bench_serve_runs_on_a_tiny_slice(stance_model_dir, tmp_path):
    out = tmp_path / "serve.json"
    args = ["--model-dir", str(stance_model_dir), "--data", "sample", "--n", "40", "--requests", "16"]
    args += ["--batch-requests", "4", "--soak", "60", "--bad-every", "10", "--threads", "1", "--json", str(out)]
    args += ["--variant", "workers=2", "--variant", "workers=1,max_wait_ms=1"]
    done = _run(["bench/serve.py", *args])
    result = json.loads(out.read_text())
    cells = {(r["variant"], r["server"], r["concurrency"], r["pairs_per_request"]) for r in result["rows"]}
    variants = ("workers=2", "workers=1,max_wait_ms=1")
    servers = ("batching", "no-batching")
    assert cells == {(v, s, c, k) for v in variants for s in servers for c in (1, 8, 32) for k in (1, 32)}
    for r in result["rows"]:
        # Every request answered, with the offline wrapper's labels (the same model, fp32 labels kept).
        assert r["failed"] == 0 and r["labels_equal_offline"] == 1.0 and r["p50_ms"] <= r["p99_ms"]
        assert r["mean_batch_pairs"] >= 1 and r["rss_end_mib"] > 0
    soak = result["soak"]
    assert soak["bad_requests"] == 6 and soak["bad_with_wrong_status"] == 0 and soak["good_failed"] == 0
    assert "| batching (workers=2) | 32 | 1 |" in done.stdout and "soak 60 requests" in done.stdout
    assert any(g.startswith("workers=1,max_wait_ms=1: C=32, 1-pair requests") for g in result["goals"])
    # The offline ceiling of 32 single-pair clients: the wrapper in calls of 32 pairs, in request order.
    assert result["offline"]["gather"] == 32 and result["offline"]["gathered_pairs_per_second"] > 0
    assert any("of offline in calls of 32" in g for g in result["goals"])


@pytest.mark.slow
def test_bench_memory_runs_real_evaluations_and_reads_each_child_peak(stance_model_dir, tmp_path):
    from tests.helpers import FIXTURE_ROOT

    out = tmp_path / "memory.json"
    args = ["--model-dir", str(stance_model_dir), "--data", "sample", "--sizes", "30,150", "--document", "fnc1"]
    args += ["--backends", "torch,onnx", "--data-root", str(FIXTURE_ROOT), "--set", "device=cpu", "--json", str(out)]
    done = _run(["bench/memory.py", *args])
    result = json.loads(out.read_text())
    rows = result["rows"]
    # The ONNX export runs first, on its own, so no evaluation row's peak includes it.
    assert [(r["mode"], r["backend"], r["n"]) for r in rows] == [
        ("prepare", "onnx", 0),
        *[("pairs", b, n) for n in (30, 150) for b in ("torch", "onnx")],
        ("document", "torch", 4),
        ("document", "onnx", 4),
    ]
    assert (stance_model_dir / "onnx" / "model.onnx").is_file()
    # The repeated file holds exactly the pairs asked for, so each run scored them all (ids made unique).
    assert rows[3]["set"] == "sample x0.15k" and len(rows[3]["macro_f1"]) == 1
    for r in rows:
        assert 100 < r["peak_rss_mb"] < 8000 and r["wall_s"] > 0, r
    assert (
        "| pairs | sample x0.15k | torch | 150 |" in done.stdout
        and "| prepare | convert once | onnx | – |" in done.stdout
    )
    assert len(result["goals"]) == 4 and "goal <= 1536" in result["goals"][0]
    # And it renders as its own section of docs/results.md, goals included.
    sys.path.insert(0, str(PROJECT_ROOT / "bench"))
    import results  # noqa: PLC0415  (bench/ is not a package)

    record = results.bench_record(out, "Evaluation memory")
    page = results.render([record])
    assert record["kind"] == "memory" and "## Evaluation memory against the number of pairs" in page
    assert "| pairs | sample x0.15k | torch | 150 |" in page and "goal <= 2048" in page


def test_bench_memory_keeps_the_rows_it_finished_when_a_later_one_fails(tmp_path, monkeypatch):
    # A whole-set document row can take half an hour: a failure (or a stopped session) after the pairs rows
    # must leave them on disk, as a valid JSON file.
    sys.path.insert(0, str(PROJECT_ROOT / "bench"))
    import memory  # noqa: PLC0415  (bench/ is not a package)

    def fake_evaluate(overrides: list[str], out_dir):
        if "mode=document" in overrides:
            raise RuntimeError("evaluate failed")
        return {"peak_rss_mb": 900.0, "wall_s": 1.0, "n": 30, "pairs_per_second": 30.0, "macro_f1": {"x": 0.5}}

    monkeypatch.setattr(memory, "run_evaluate", fake_evaluate)
    monkeypatch.setattr(memory, "repeated_pairs_file", lambda data, root, n, path: "sample")
    out = tmp_path / "memory.json"
    with pytest.raises(RuntimeError, match="evaluate failed"):
        memory.main(["--sizes", "30", "--document", "fnc1", "--json", str(out)])
    rows = json.loads(out.read_text())["rows"]
    assert [(r["mode"], r["backend"], r["n"]) for r in rows] == [("pairs", "torch", 30)]
    assert not list(tmp_path.glob("*.tmp"))
