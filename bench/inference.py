"""Inference throughput on CPU: stancekit's wrapper against plain transformers, in one run (issue #4).

    python bench/inference.py                                   # 2,000 SNLI test pairs, the nli_mix model
    python bench/inference.py --model-dir RUN/model --n 2000 --repeats 5 --data-root ../shared/data

Variants, each measured in a fresh subprocess (so peak memory is its own and nothing is warm from another):

  pipeline    transformers ``pipeline("text-classification")`` with text pairs, batch 32 (the baseline)
  loop        a plain loop over batches of 32 in input order (tokenise, pad to the batch's longest, forward)
  ours-fp32   ``StanceClassifier(precision="fp32")`` (PyTorch): tokenised once, batched by sorted token length
  ours        ``StanceClassifier`` (PyTorch) with its defaults: as ours-fp32, and ``precision="auto"`` (bf16
              with the close calls recomputed in fp32 on CPUs with native bf16, fp32 elsewhere)
  ours-pad16  as ours, each batch's length rounded up to a multiple of 16 (``pad_to_multiple_of=16``)
  ours-recast as ours, but the bf16 passes run the fp32 model under autocast, which casts every Linear weight
              to bf16 in every pass (``bf16_weight_copy = False``; ours runs a twin with bf16 weights): the
              same logits, so the row measures what the twin saves
  ours-compile  as ours with ``torch_compile=True``: ``torch.compile(dynamic=True)`` (Inductor; needs a C++
              compiler): warmed up by a whole untimed pass, whose time is reported apart. Only when named in
              --variants (compiling takes minutes)
  onnx        ``StanceClassifier(backend="onnx")``: ONNX Runtime, fp32
  onnx-int8   ``StanceClassifier(backend="onnx-int8")``: ONNX Runtime, dynamically quantised int8 weights
  onnx-int8-static  ``StanceClassifier(backend="onnx-int8-static")``: ONNX Runtime, static (QDQ) int8, calibrated
              on the same pairs as openvino-int8
  openvino    ``StanceClassifier(backend="openvino", precision="fp32")``: OpenVINO's CPU plugin, fp32
  openvino-bf16  ``backend="openvino", precision="bf16-checked"`` (what ``auto`` is there): bf16 with the
              close calls recomputed in fp32; only on CPUs with native bf16, skipped with a note elsewhere
  openvino-int8  ``StanceClassifier(backend="openvino-int8")``: NNCF static int8, calibrated on the first
              ``CALIBRATION_PAIRS`` pairs of ``--data``'s training split (never the timed test pairs)

For each: pairs/second over the whole set (median of ``--repeats`` timed passes after one warm-up pass),
model FLOP/s and MFU (its share of this machine's matrix-product peak in the row's precision, measured in
the same run by bench/peak.py with the same threads; ``--peak-seconds 0`` skips it),
peak resident memory (the process's RSS high-water mark), agreement of its labels with ``ours-fp32`` (the
fp32 model: the labels every variant should reproduce), and
accuracy against the gold labels. All variants use the same CPU thread count (``--threads``, default: the
physical cores). ONNX and OpenVINO files are made before timing (once; cached in the model folder). The
OpenVINO variants need ``pip install 'stancekit[openvino]'`` and are skipped with a note without it.
Prints a table with the ratio to the pipeline baseline and writes JSON (``--json``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

# Light on purpose: the baseline children (pipeline, loop) must not import torch through stancekit before they
# load transformers themselves; stancekit.system reads /proc without importing torch.
from stancekit.system import peak_rss_mb
from stancekit.version import source_commit

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VARIANTS = (
    "pipeline",
    "loop",
    "ours-fp32",
    "ours",
    "ours-pad16",
    "ours-recast",
    "ours-compile",
    "onnx",
    "onnx-int8",
    "onnx-int8-static",
    "openvino",
    "openvino-bf16",
    "openvino-int8",
)
# The StanceClassifier variants: (backend, precision).
CLASSIFIER_VARIANTS = {
    "ours-fp32": ("torch", "fp32"),
    "ours": ("torch", "auto"),
    "ours-pad16": ("torch", "auto"),
    "ours-recast": ("torch", "auto"),
    "ours-compile": ("torch", "auto"),
    "onnx": ("onnx", "auto"),
    "onnx-int8": ("onnx-int8", "auto"),
    "onnx-int8-static": ("onnx-int8-static", "auto"),
    "openvino": ("openvino", "fp32"),
    "openvino-bf16": ("openvino", "bf16-checked"),
    "openvino-int8": ("openvino-int8", "auto"),
}
# Further StanceClassifier options of a variant: ours-pad16 asks whether whole AVX-512/AMX tiles pay for padding.
CLASSIFIER_OPTIONS = {"ours-pad16": {"pad_to_multiple_of": 16}, "ours-compile": {"torch_compile": True}}
# StanceClassifier attributes a variant sets: ours-recast is ours with autocast casting the fp32 weights to bf16
# in every pass (what the wrapper did before its bf16 passes ran a twin with bf16 Linear weights).
CLASSIFIER_ATTRIBUTES = {"ours-recast": {"bf16_weight_copy": False}}
# Variants whose model is torch.compile'd (Inductor, dynamic shapes): their warm-up is a whole pass, so every
# graph (bf16 and the fp32 recheck) is compiled before timing; the compile time is reported as warmup_seconds.
COMPILED = {"ours-compile"}
CALIBRATION_PAIRS = 300  # openvino-int8's and onnx-int8-static's calibration: NNCF's default subset size
REFERENCE = "ours-fp32"  # labels of the fp32 PyTorch model: agreement is measured against them
LABELS = ("support", "contradict", "neutral")  # stancekit.labels.LABELS, repeated so children import less
DEFAULT_MODEL = PROJECT_ROOT / "outputs" / "nli_mix" / "model"
DEFAULT_DATA_ROOT = os.environ.get("STANCEKIT_DATA_ROOT", str(PROJECT_ROOT.parent / "shared" / "data"))
RESULT_PREFIX = "BENCH_RESULT "


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", default=str(DEFAULT_MODEL), help="a saved stance model folder")
    parser.add_argument("--data-root", default=DEFAULT_DATA_ROOT, help="benchmark data root (paths.data_root)")
    parser.add_argument("--data", default="snli", help="data config whose first test set is used (configs/data)")
    parser.add_argument("--n", "--limit", dest="n", type=int, default=2000, help="pairs, from the start of the set")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per variant (the median is reported)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for every variant (default: cores)")
    parser.add_argument(
        "--variants",
        default=",".join(v for v in VARIANTS if v not in COMPILED),
        help=f"comma-separated subset of {VARIANTS} (default: all but {sorted(COMPILED)}: slow to compile)",
    )
    parser.add_argument("--json", default=str(PROJECT_ROOT / "bench" / "results" / "inference.json"))
    parser.add_argument(
        "--peak-seconds", type=float, default=0.5, help="bench/peak.py's budget per product for MFU (0: no MFU)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="instead of the table: where the wrapper's time goes (torch.profiler)"
    )
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--pairs-file", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------------------------- child
def make_runner(variant: str, model_dir: str, batch_size: int, threads: int):
    """Load what ``variant`` needs and return ``run(premises, hypotheses) -> list of label ids``."""
    import torch

    torch.set_num_threads(threads)
    if variant == "pipeline":
        from transformers import pipeline

        pipe = pipeline("text-classification", model=model_dir, device="cpu")

        def run(premises, hypotheses):
            inputs = [{"text": p, "text_pair": h} for p, h in zip(premises, hypotheses)]
            return [LABELS.index(r["label"]) for r in pipe(inputs, batch_size=batch_size, truncation=True)]

        return run
    if variant == "loop":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()

        @torch.inference_mode()
        def run(premises, hypotheses):
            out = []
            for i in range(0, len(premises), batch_size):
                enc = tokenizer(
                    premises[i : i + batch_size],
                    hypotheses[i : i + batch_size],
                    padding=True,
                    truncation=True,
                    return_tensors="pt",
                )
                out += model(**enc).logits.argmax(-1).tolist()
            return out

        return run
    from stancekit import StanceClassifier

    backend, precision = CLASSIFIER_VARIANTS[variant]
    clf = StanceClassifier.from_pretrained(
        model_dir,
        device="cpu",
        batch_size=batch_size,
        backend=backend,
        num_threads=threads,
        precision=precision,
        **CLASSIFIER_OPTIONS.get(variant, {}),
    )

    for name, value in CLASSIFIER_ATTRIBUTES.get(variant, {}).items():
        setattr(clf, name, value)

    def run(premises, hypotheses):
        return clf.predict_proba(list(zip(premises, hypotheses))).argmax(axis=1).tolist()

    run.precision = clf.precision  # what "auto" resolved to on this machine
    return run


def child(args: argparse.Namespace) -> dict:
    """Measure one variant in this (fresh) process; return its numbers and predictions."""
    data = json.loads(Path(args.pairs_file).read_text(encoding="utf-8"))
    premises, hypotheses = data["premises"], data["hypotheses"]
    threads = args.threads
    started = time.perf_counter()
    run = make_runner(args.child, args.model_dir, args.batch_size, threads)
    load_seconds = time.perf_counter() - started
    warmup = len(premises) if args.child in COMPILED else 4 * args.batch_size
    started = time.perf_counter()
    run(premises[:warmup], hypotheses[:warmup])  # warm-up: threads, allocator (and compilation)
    warmup_seconds = time.perf_counter() - started
    times, predictions = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        predictions = run(premises, hypotheses)
        times.append(time.perf_counter() - started)
    return {
        "variant": args.child,
        "pairs": len(premises),
        "seconds": times,
        "pairs_per_second": len(premises) / statistics.median(times),
        "load_seconds": load_seconds,
        "warmup_seconds": warmup_seconds,
        "peak_rss_mb": peak_rss_mb(),
        "threads": threads,
        "precision": getattr(run, "precision", "fp32"),
        "predictions": predictions,
    }


# ---------------------------------------------------------------------------------------------- parent
def load_pairs(args: argparse.Namespace) -> dict:
    """The first ``--n`` test pairs of ``--data`` (stancekit's own adapter and label map) with gold label ids."""
    from hydra import compose, initialize_config_dir

    from stancekit.config import CONFIG_DIR
    from stancekit.data import build_splits

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("evaluate", [f"data={args.data}", f"paths.data_root={args.data_root}", "model_dir=unused"])
    tests = build_splits(cfg.data, cfg.paths.data_root, ("test",)).test
    if not tests:
        raise SystemExit(f"data config {args.data!r} has no test set")
    name, ds = next(iter(tests.items()))
    ds = ds.select(range(min(args.n, len(ds))))
    return {
        "set": name,
        "premises": list(ds["premise"]),
        "hypotheses": list(ds["hypothesis"]),
        "labels": [int(x) for x in ds["label"]],
    }


def load_calibration_pairs(args: argparse.Namespace, n: int = CALIBRATION_PAIRS) -> list[tuple[str, str]]:
    """The first ``n`` pairs of ``--data``'s training mixture (shuffled, and with every test pair removed by
    the leakage guard): what ``openvino-int8`` and ``onnx-int8-static`` are calibrated on, as a user would
    calibrate on training pairs."""
    from hydra import compose, initialize_config_dir

    from stancekit.config import CONFIG_DIR
    from stancekit.data import build_splits

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("evaluate", [f"data={args.data}", f"paths.data_root={args.data_root}", "model_dir=unused"])
    train = build_splits(cfg.data, cfg.paths.data_root, ("train",)).train
    if train is None or len(train) == 0:
        raise SystemExit(f"data config {args.data!r} has no training pairs to calibrate the static int8 variants on")
    train = train.select(range(min(n, len(train))))
    return list(zip(train["premise"], train["hypothesis"]))


def prepare_converted(args: argparse.Namespace, variants: list[str]) -> None:
    """Export, convert and quantise before timing, so no variant's time or memory includes the one-off work."""
    from stancekit import StanceClassifier

    calibration: list[tuple[str, str]] = []  # loaded once, for whichever calibrated variant comes first
    for variant in variants:
        backend, precision = CLASSIFIER_VARIANTS.get(variant, ("torch", "auto"))
        if backend in ("openvino-int8", "onnx-int8-static"):
            calibration = calibration or load_calibration_pairs(args)
        if backend == "openvino-int8":
            from stancekit.infer.openvino import quantize_openvino

            quantize_openvino(args.model_dir, calibration)
        elif backend == "onnx-int8-static":
            from stancekit.infer.onnx import quantize_onnx_static

            quantize_onnx_static(args.model_dir, calibration)
        elif backend != "torch":
            StanceClassifier.from_pretrained(args.model_dir, device="cpu", backend=backend, precision=precision)


def skipped_variants(variants: list[str]) -> dict[str, str]:
    """The variants this machine cannot run, each with why: OpenVINO not installed, or no native bf16."""
    import importlib.util

    from stancekit.system import cpu_has_native_bf16

    skipped = {}
    for variant in variants:
        backend, precision = CLASSIFIER_VARIANTS.get(variant, ("torch", "auto"))
        needs = ["openvino", "nncf"] if backend == "openvino-int8" else ["openvino"] if backend == "openvino" else []
        missing = [name for name in needs if importlib.util.find_spec(name) is None]
        if missing:
            skipped[variant] = f"{', '.join(missing)} not installed: pip install 'stancekit[openvino]'"
        elif backend == "openvino" and "bf16" in precision and not cpu_has_native_bf16():
            skipped[variant] = "this CPU has no native bf16 (AVX-512 BF16 or AMX)"
    return skipped


def stop_children_on_sigterm() -> None:
    """Turn SIGTERM (``timeout``, a job scheduler) into SystemExit, so ``subprocess.run`` kills the running
    child before the parent exits instead of leaving it to finish on its own."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def run_child(variant: str, args: argparse.Namespace, pairs_file: Path) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        variant,
        "--pairs-file",
        str(pairs_file),
        "--model-dir",
        args.model_dir,
        "--batch-size",
        str(args.batch_size),
        "--repeats",
        str(args.repeats),
        "--threads",
        str(args.threads),
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(f"variant {variant} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")


def provenance(script: str, argv: list[str]) -> dict:
    """What a bench JSON opens with: when and where it ran, the command (``script`` and its ``argv``), and the
    commit of the code it measured (``-dirty`` when tracked files differed), taken when the bench ran so a
    record made later names the right one."""
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": shlex.join(["python", script, *argv]),
        "commit": source_commit(),
    }


def machine() -> dict:
    """CPU model, the matrix-math features that decide its speed (bf16, int8, AMX), and core counts."""
    model, flags = None, set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():  # the first CPU's lines
            if line.startswith("model name") and model is None:
                model = line.split(":", 1)[1].strip()
            elif line.startswith(("flags", "Features")) and not flags:  # x86, ARM
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    import psutil

    wanted = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8", "asimd", "sve", "bf16")
    return {
        "cpu": model,
        "features": [f for f in wanted if f in flags],
        "physical_cores": psutil.cpu_count(logical=False),
        "logical_cpus": os.cpu_count(),
    }


def table(rows: list[dict]) -> str:
    """Markdown table of the results, with the ratio to the pipeline baseline (when it was run)."""
    base = next((r["pairs_per_second"] for r in rows if r["variant"] == "pipeline"), None)
    lines = [
        "| variant | precision | pairs/s | × pipeline | model TFLOP/s | MFU | peak RSS (MB) | labels = fp32 wrapper "
        "| accuracy |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = f"{r['pairs_per_second'] / base:.2f}×" if base else "–"
        agree = f"{r['agreement']:.2%}" if r.get("agreement") is not None else "–"
        tflops = f"{r['model_tflops']:.3f}" if r.get("model_tflops") is not None else "–"
        mfu = f"{r['mfu']:.1%} of {r['mfu_of']}" if r.get("mfu") is not None else "–"
        lines.append(
            f"| {r['variant']} | {r['precision']} | {r['pairs_per_second']:.0f} | {ratio} | {tflops} | {mfu} | "
            f"{r['peak_rss_mb']:.0f} | {agree} | {r['accuracy']:.4f} |"
        )
    return "\n".join(lines)


def profile(args: argparse.Namespace) -> str:
    """The wrapper's CPU time per operator over the benchmark pairs (one pass after a warm-up), as a table."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    from stancekit import StanceClassifier

    data = load_pairs(args)
    pairs = list(zip(data["premises"], data["hypotheses"]))
    clf = StanceClassifier.from_pretrained(
        args.model_dir, device="cpu", batch_size=args.batch_size, num_threads=args.threads
    )
    clf.predict_logits(pairs[: args.batch_size * 4])
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        clf.predict_logits(pairs)
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15)


def model_costs(model_dir: str, premises: list[str], hypotheses: list[str]) -> dict:
    """Non-embedding parameters and the pairs' real tokens (as the wrapper truncates them): a forward pass
    costs about 2 x parameters x tokens FLOPs, which is what MFU counts (attention's own products are left
    out: at these lengths they are a few per cent)."""
    from safetensors import safe_open
    from transformers import AutoConfig, AutoTokenizer

    from stancekit.models.encoding import usable_max_length

    params = 0
    for file in sorted(Path(model_dir).glob("*.safetensors")):
        with safe_open(str(file), framework="np") as weights:
            for name in weights.keys():  # noqa: SIM118 (safe_open has keys(), not iteration)
                if "embeddings" not in name:
                    shape = weights.get_slice(name).get_shape()
                    params += math.prod(shape)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    max_length = usable_max_length(AutoConfig.from_pretrained(model_dir), tokenizer, None)
    enc = tokenizer(premises, hypotheses, truncation="only_first", max_length=max_length)
    return {"non_embedding_params": params, "tokens": sum(len(ids) for ids in enc["input_ids"])}


def add_mfu(rows: list[dict], costs: dict, peaks: dict) -> None:
    """Each row's model TFLOP/s and its share of the measured peak of the precision it runs in."""
    flops = 2 * costs["non_embedding_params"] * costs["tokens"]
    for r in rows:
        family = "int8" if "int8" in r["precision"] else "bf16" if "bf16" in r["precision"] else "fp32"
        r["model_tflops"] = flops * r["pairs_per_second"] / r["pairs"] / 1e12
        r["mfu"] = r["model_tflops"] / peaks["peak"][family] if family in peaks["peak"] else None
        r["mfu_of"] = family


def check_model_dir(model_dir: str) -> None:
    """Exit with what to do when ``model_dir`` is not a saved model folder (the default is made by training)."""
    if not (Path(model_dir) / "config.json").is_file():
        raise SystemExit(
            f"bench/inference.py: no saved model at {model_dir} (no config.json). Train the benchmark model first:\n"
            "  python scripts/train.py experiment=nli_mix hydra.run.dir=outputs/nli_mix\n"
            "or pass --model-dir RUN/model (a folder written by scripts/train.py)."
        )


def main(argv: list[str] | None = None) -> dict | None:
    args = parse_args(argv)
    if args.child:
        print(RESULT_PREFIX + json.dumps(child(args)), flush=True)
        return None
    check_model_dir(args.model_dir)
    if args.profile:
        print(profile(args))
        return None
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"unknown variants {sorted(unknown)}; known: {VARIANTS}")
    from stancekit.system import default_num_threads

    args.threads = args.threads or default_num_threads()
    stop_children_on_sigterm()
    skipped = skipped_variants(variants)
    for variant, why in skipped.items():
        print(f"[bench] {variant}: skipped ({why})", file=sys.stderr, flush=True)
    variants = [v for v in variants if v not in skipped]
    data = load_pairs(args)
    prepare_converted(args, variants)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        pairs_file = Path(tmp) / "pairs.json"
        pairs_file.write_text(json.dumps(data), encoding="utf-8")
        for variant in variants:
            print(f"[bench] {variant} ...", file=sys.stderr, flush=True)
            rows.append(run_child(variant, args, pairs_file))
    peaks = None
    if args.peak_seconds > 0:
        import peak as peak_bench  # bench/peak.py: this machine's matrix-product peak, same thread count

        print("[bench] matrix-product peak ...", file=sys.stderr, flush=True)
        peaks = peak_bench.measure_peaks(args.threads, args.peak_seconds)
        add_mfu(rows, model_costs(args.model_dir, data["premises"], data["hypotheses"]), peaks)
    reference = next((r["predictions"] for r in rows if r["variant"] == REFERENCE), None)
    gold = data["labels"]
    for r in rows:
        preds = r.pop("predictions")
        r["accuracy"] = sum(p == g for p, g in zip(preds, gold)) / len(gold)
        r["agreement"] = sum(p == q for p, q in zip(preds, reference)) / len(gold) if reference else None
        r["predicted"] = {lab: preds.count(i) for i, lab in enumerate(LABELS)}
    result = {
        **provenance("bench/inference.py", sys.argv[1:] if argv is None else argv),
        "model_dir": args.model_dir,
        "set": data["set"],
        "pairs": len(gold),
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "threads": args.threads,
        "peak": peaks,
        "rows": rows,
        "skipped": skipped,
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{len(gold)} pairs of {data['set']}, batch {args.batch_size}, median of {args.repeats}; {result['machine']}")
    print(table(rows))
    for variant, why in skipped.items():
        print(f"{variant}: skipped ({why})")
    if peaks:
        print("\nMFU: the model's FLOP/s (2 x non-embedding parameters x real tokens per pass) over this machine's")
        print(f"matrix-product peak in the row's precision, {args.threads} threads (bench/peak.py):\n")
        print(peak_bench.table(peaks))
    print(f"JSON: {out}")
    return result


if __name__ == "__main__":
    main()
