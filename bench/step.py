"""One training step, two ways, in one process: what an option of the step saves, beyond run-to-run noise.

    python bench/step.py                                   # MiniLM (and MPNet if installed), 3 micro-batch shapes
    python bench/step.py --models packaged:all-MiniLM-L6-v2 --shapes 16x40x2 --steps 30

bench/train.py times each recipe in a fresh process, one after another; on a shared 2-core VM the speed of
the same row moved by a fifth between runs an hour apart, more than the step options measured here change.
So this bench builds the model twice (the same weights), applies one option to one copy, and alternates
optimiser steps between the two copies on the same inputs: drift in the machine's speed hits both alike.
Each step is ``accumulation`` micro-batches of ``rows x length`` tokens (a quarter of the rows padded by a
quarter of the length), forward, backward and a fused AdamW step, in ``train.precision=auto``'s precision
(bf16 autocast on CPUs with native bf16), word embeddings fixed as the recipe fixes them.

Variants (the first is the baseline):

  torch_dropout  PyTorch's own dropout: ``torch.bernoulli_`` masks and transformers' ``sdpa`` attention
  fast_dropout   stancekit.train.dropout.use_fast_dropout, what ``train.fast_dropout=true`` (the default) does

Reports, per model and shape, the median and the fastest step of each variant (the first steps left out),
the ratio of the medians and the model TFLOP/s at the median (6 x non-embedding parameters x tokens).
Prints a table and writes JSON (``--json``).

``--profile`` also says where the recipe's step (``fast_dropout``) spends its time: ``--profile-steps`` more
steps under ``torch.profiler``, each operator's own time summed into families (matrix products, copies and
casts, element-wise arithmetic, GELU, softmax, layer norm, the optimiser, ...), the wall time outside any
operator (Python, NumPy's dropout masks), and the matrix products' own TFLOP/s (the profiler's FLOP count of
``mm``/``addmm``/``bmm`` over their time) against the CPU's matrix-product peak in the step's precision
(bench/peak.py, same run). MFU is then about (matrix products' share of the step) x (their share of the
peak): which of the two keeps a step from the peak.

    python bench/step.py --profile --shapes 16x40x2,16x64x1 --steps 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inference import provenance  # noqa: E402  (bench/ is not a package)
from train import non_embedding_params  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("torch_dropout", "fast_dropout")
MPNET = "packaged:all-mpnet-base-v2"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", default=None, help="comma-separated model.name_or_path (default: MiniLM, and MPNet if installed)"
    )
    parser.add_argument(
        "--shapes", default="16x40x2,16x64x1,8x128x1", help="micro-batches as ROWSxLENGTHxACCUMULATION, comma-separated"
    )
    parser.add_argument("--steps", type=int, default=25, help="timed steps per variant, after --warmup-steps")
    parser.add_argument("--warmup-steps", type=int, default=3)
    parser.add_argument("--precision", default="auto", help="train.precision: auto, fp32 or bf16")
    parser.add_argument("--cache-dir", default=str(PROJECT_ROOT / ".cache"), help="where packaged models unpack")
    parser.add_argument(
        "--profile", action="store_true", help="also profile the recipe's step per operator family (torch.profiler)"
    )
    parser.add_argument("--profile-steps", type=int, default=5, help="profiled steps per model and shape")
    parser.add_argument(
        "--peak-seconds", type=float, default=0.5, help="bench/peak.py's budget per product for --profile (0: none)"
    )
    parser.add_argument("--json", default=str(PROJECT_ROOT / "bench" / "results" / "step.json"))
    return parser.parse_args(argv)


def default_models(cache_dir: str) -> list[str]:
    """MiniLM, and MPNet when its packages are installed (``make install-mpnet``)."""
    from stancekit.models.base import resolve_model_path

    models = ["packaged:all-MiniLM-L6-v2"]
    try:
        resolve_model_path(MPNET, cache_dir)
        models.append(MPNET)
    except (FileNotFoundError, ImportError, ValueError) as missing:
        print(f"[bench] {MPNET} left out: {missing}", file=sys.stderr)
    return models


def parse_shape(text: str) -> tuple[int, int, int]:
    try:
        rows, length, accumulation = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--shapes: {text!r} is not ROWSxLENGTHxACCUMULATION (e.g. 16x40x2)") from None
    return rows, length, accumulation


def build(name_or_path: str, variant: str, cache_dir: str) -> tuple:
    """The model for training with the recipe's fixed word embeddings and fused AdamW, and the variant's option."""
    import torch

    from stancekit.config_groups import ModelConfig
    from stancekit.models.base import build_model
    from stancekit.train.dropout import use_fast_dropout

    torch.manual_seed(0)  # the same head for both variants
    model = build_model(ModelConfig(name_or_path=name_or_path, cache_dir=cache_dir))
    model.get_input_embeddings().weight.requires_grad_(False)
    if variant == "fast_dropout":
        use_fast_dropout(model)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    return model, torch.optim.AdamW(trainable, lr=1e-5, fused=True)


def step_function(model, optimiser, inputs: dict, accumulation: int, bf16: bool) -> Callable[[], None]:
    import torch

    def step() -> None:
        for _ in range(accumulation):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = model(**inputs).loss
            loss.backward()
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)

    return step


# Operator families of a profiled step: an operator's own (self) time counts for the first family whose
# names include it exactly; a name ending in "*" is a prefix. Whatever matches none is "other operators".
FAMILIES: dict[str, tuple[str, ...]] = {
    family: tuple(f"aten::{name}" for name in names.split())
    for family, names in {
        "matrix products": "mm addmm bmm baddbmm _scaled_dot_product*",
        "copies and casts": "copy_ _to_copy clone contiguous",
        "element-wise arithmetic": "mul mul_ add add_ div div_ sub rsub neg where masked_fill masked_fill_ fill_ zero_",
        "GELU": "gelu gelu_backward",
        "softmax": "_softmax _softmax_backward_data",
        "layer norm": "native_layer_norm native_layer_norm_backward",
        "reductions": "sum mean tanh tanh_backward",
        "optimiser": "_fused_adamw_ _foreach*",
        "embeddings and loss": "embedding* index_select _log_softmax* nll_loss* cumsum",
    }.items()
}
MATRIX_PRODUCTS = "matrix products"


def family_of(name: str) -> str:
    """The operator family a profiler event's name belongs to (``FAMILIES``), else "other operators"."""
    for family, names in FAMILIES.items():
        if any(name == n or (n.endswith("*") and name.startswith(n[:-1])) for n in names):
            return family
    return "other operators"


def profile_step(step: Callable[[], None], steps: int, peak_tflops: float | None) -> dict:
    """Where ``steps`` calls of ``step`` spend their wall time, per operator family (see ``FAMILIES``)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        started = time.perf_counter()
        for _ in range(steps):
            step()
        wall_us = (time.perf_counter() - started) * 1e6
    self_us: dict[str, float] = {}
    product_flops = 0.0
    for event in prof.key_averages():
        family = family_of(event.key)
        self_us[family] = self_us.get(family, 0.0) + event.self_cpu_time_total
        if family == MATRIX_PRODUCTS:
            product_flops += event.flops or 0
    # The profiler's own bookkeeping can make the operators' sum exceed the wall time by a little.
    self_us["outside operators"] = max(0.0, wall_us - sum(self_us.values()))
    total = sum(self_us.values())
    products_s = self_us.get(MATRIX_PRODUCTS, 0.0) / 1e6
    products_tflops = product_flops / products_s / 1e12 if products_s > 0 else 0.0
    return {
        "steps": steps,
        "step_ms": wall_us / steps / 1e3,
        "share": {family: us / total for family, us in sorted(self_us.items(), key=lambda kv: -kv[1])},
        "matrix_products_tflops": products_tflops,
        "peak_tflops": peak_tflops,
        "matrix_products_of_peak": products_tflops / peak_tflops if peak_tflops else None,
    }


def measure(name_or_path: str, shape: tuple[int, int, int], args: argparse.Namespace, peaks: dict) -> dict:
    import torch

    from stancekit.train.trainer import resolve_precision

    rows, length, accumulation = shape
    bf16 = resolve_precision(args.precision, "cpu")["bf16"]
    built = {variant: build(name_or_path, variant, args.cache_dir) for variant in VARIANTS}
    model = built[VARIANTS[0]][0]
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(1, model.config.vocab_size, (rows, length), generator=generator)
    mask = torch.ones_like(ids)
    mask[: rows // 4, length - length // 4 :] = 0  # some padding, as in length-grouped batches
    inputs = {"input_ids": ids, "attention_mask": mask, "labels": torch.randint(0, 3, (rows,), generator=generator)}
    steps = {v: step_function(m, o, inputs, accumulation, bf16) for v, (m, o) in built.items()}
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for i in range(args.warmup_steps + args.steps):
        for variant in VARIANTS:  # alternate, so a change in the machine's speed hits both
            started = time.perf_counter()
            steps[variant]()
            if i >= args.warmup_steps:
                times[variant].append(time.perf_counter() - started)
    step_tflop = 6 * non_embedding_params(model) * int(mask.sum()) * accumulation / 1e12  # model FLOPs per step
    row = {"model": name_or_path, "rows": rows, "length": length, "accumulation": accumulation}
    row["precision"] = "bf16" if bf16 else "fp32"
    for variant in VARIANTS:
        median = statistics.median(times[variant])
        row[variant] = {
            "median_ms": median * 1e3,
            "min_ms": min(times[variant]) * 1e3,
            "model_tflops": step_tflop / median,
        }
    row["speedup"] = row[VARIANTS[0]]["median_ms"] / row[VARIANTS[1]]["median_ms"]
    if args.profile:
        row["profile"] = profile_step(steps[VARIANTS[1]], args.profile_steps, peaks.get(row["precision"]))
        row["profile"]["model_tflops"] = step_tflop / (row["profile"]["step_ms"] / 1e3)
    return row


def table(rows: list[dict]) -> str:
    """Markdown table: each variant's median (fastest) step and model TFLOP/s, and the ratio of the medians."""
    base, other = VARIANTS
    lines = [
        f"| model | micro-batch | precision | {base}: ms/step (fastest) | TFLOP/s | {other}: ms/step (fastest) "
        "| TFLOP/s | speed-up |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        shape = f"{r['rows']} × {r['length']} × {r['accumulation']}"
        cells = [f"{r[v]['median_ms']:.0f} ({r[v]['min_ms']:.0f}) | {r[v]['model_tflops']:.3f}" for v in VARIANTS]
        model = r["model"].removeprefix("packaged:")
        lines.append(f"| {model} | {shape} | {r['precision']} | {cells[0]} | {cells[1]} | {r['speedup']:.2f}× |")
    return "\n".join(lines)


def profile_table(rows: list[dict]) -> str:
    """Markdown table of the profiled steps: each family's share of the wall time, the matrix products' TFLOP/s."""
    families = [*FAMILIES, "other operators", "outside operators"]
    lines = [
        "| model | micro-batch | ms/step | model TFLOP/s | products TFLOP/s (of peak) | " + " | ".join(families) + " |",
        "|---|---|---:|---:|---:|" + "---:|" * len(families),
    ]
    for r in rows:
        p = r["profile"]
        of_peak = f" ({p['matrix_products_of_peak']:.0%})" if p["matrix_products_of_peak"] is not None else ""
        shares = " | ".join(f"{p['share'].get(f, 0.0):.0%}" for f in families)
        lines.append(
            f"| {r['model'].removeprefix('packaged:')} | {r['rows']} × {r['length']} × {r['accumulation']} | "
            f"{p['step_ms']:.0f} | {p['model_tflops']:.3f} | {p['matrix_products_tflops']:.3f}{of_peak} | {shares} |"
        )
    return "\n".join(lines)


def extra_tables(rows: list[dict]) -> list[tuple[str, str]]:
    """The tables a record of this bench shows after its main one, each with its heading (bench/results.py)."""
    if rows and all("profile" in r for r in rows):  # --profile
        heading = "Where the recipe's step goes (share of the profiled steps' wall time, per operator family):"
        return [(heading, profile_table(rows))]
    return []


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.steps < 1 or args.warmup_steps < 0 or args.profile_steps < 1:
        raise SystemExit("--steps and --profile-steps must be at least 1 and --warmup-steps at least 0")
    import torch

    from stancekit.system import default_num_threads

    torch.set_num_threads(default_num_threads())
    models = args.models.split(",") if args.models else default_models(args.cache_dir)
    shapes = [parse_shape(s) for s in args.shapes.split(",") if s.strip()]
    peaks: dict = {}
    if args.profile and args.peak_seconds > 0:
        import peak as peak_bench

        peaks = peak_bench.measure_peaks(default_num_threads(), args.peak_seconds, ("fp32", "bf16"))["peak"]
    rows = []
    for name in models:
        for shape in shapes:
            print(f"[bench] {name} {shape} ...", file=sys.stderr, flush=True)
            rows.append(measure(name, shape, args, peaks))
    result = {
        **provenance("bench/step.py", argv),
        "steps": args.steps,
        "rows": rows,
        "peak_tflops": peaks,
    }
    print(f"{args.steps} alternating steps per variant after {args.warmup_steps} untimed; {result['machine']}")
    print(table(rows))
    if args.profile:
        print(f"\nWhere the recipe's step goes ({args.profile_steps} profiled steps; share of the wall time):\n")
        print(profile_table(rows))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2))
    print(f"JSON: {args.json}")
    return result


if __name__ == "__main__":
    main()
