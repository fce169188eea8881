"""Training throughput on CPU: stancekit's recipe against fixed-length padding, in one run (issue #4).

    python bench/train.py                              # MiniLM on nli_mix, 60 optimiser steps per row
    python bench/train.py --steps 60 --rows pad128,dynamic,grouped --data-root ../shared/data
    python bench/train.py --rows grouped --set model.max_length=128 --set train.eval_batch_size=32   # one recipe

Rows (each ``stancekit.train.train`` with config overrides, in a fresh subprocess so that peak memory is
its own; same model, data, seed and number of steps):

  pad128        every batch padded to 128 tokens, random order, fp32, 32 pairs per batch and step, glibc's
                allocator as it comes: the ``run_glue.py`` way (``model.max_length=128
                train.pad_to_max_length=true train.group_by_length=false``, ...)
  dynamic       dynamic padding (each batch to its longest pair), random order, fp32
  grouped_fp32  dynamic padding, length-grouped batches, fp32 (ours without bf16, to show each part's share)
  grouped       stancekit's recipe as configured: length-grouped, ``train.precision=auto`` (bf16 autocast on
                CPUs with native bf16, see stancekit.train.trainer.resolve_precision)
  grouped_pad16 as grouped, each batch's length rounded up to a multiple of 16 (``train.pad_to_multiple_of=16``):
                whether shapes of whole AVX-512/AMX tiles pay for the extra padding
  grouped_torch_dropout as grouped, with PyTorch's own dropout masks (``train.fast_dropout=false``): what the
                NumPy-drawn masks of stancekit.train.dropout save
  grouped_compile as grouped, with ``train.torch_compile=true`` (torch.compile, Inductor): whether fused
                kernels pay. Only when named in --rows; the first steps compile: leave them out of the timing
                with --warmup-steps
  grouped_mb32  as grouped, one micro-batch of 32 pairs per step instead of two of 16 (the same 32 pairs per
                optimiser step; up to 2,048 tokens per micro-batch): fewer, larger matrix products and half the
                per-micro-batch work (gradient conversions, operator dispatch), for more activation memory.
                Only when named in --rows

For each: training examples/second over the timed steps (first step start to last step end: forward,
backward and optimiser, no evaluation), the projected time of one epoch of the training split at that
rate, peak resident memory (after setup, through training, and overall with the evaluation and saving
that follow), and the validation accuracy/macro-F1 of the model after those steps (a short run: a sanity
check, noisy). Prints a table with the ratio to the first row and writes JSON (``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inference import RESULT_PREFIX, peak_rss_mb, provenance, stop_children_on_sigterm  # noqa: E402  (bench/ is not a package)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_ROOT = os.environ.get("STANCEKIT_DATA_ROOT", str(PROJECT_ROOT.parent / "shared" / "data"))
ROWS: dict[str, tuple[str, list[str]]] = {
    "pad128": (
        "pad to 128, random order, fp32, batch 32 (run_glue.py)",
        [
            "model.max_length=128",
            "train.pad_to_max_length=true",
            "train.group_by_length=false",
            "train.precision=fp32",
            # Plain Trainer memory behaviour: one batch of 32 per step, glibc's allocator and oneDNN's cache untouched.
            "train.batch_size=32",
            "train.gradient_accumulation_steps=1",
            "train.malloc_mmap_threshold_mb=null",
            "train.malloc_trim_steps=null",
            "train.onednn_cache_capacity=null",
            "train.max_tokens_per_micro_batch=null",
            "train.freeze_word_embeddings=false",
            "train.fast_dropout=false",
        ],
    ),
    "dynamic": ("dynamic padding, random order, fp32", ["train.group_by_length=false", "train.precision=fp32"]),
    "grouped_fp32": ("dynamic padding, length-grouped, fp32", ["train.precision=fp32"]),
    "grouped": ("stancekit's recipe (length-grouped, precision=auto)", []),
    # Whether matrix shapes that are whole AVX-512/AMX tiles pay for the extra padding.
    "grouped_pad16": (
        "as grouped, each batch's length rounded up to a multiple of 16",
        ["train.pad_to_multiple_of=16"],
    ),
    # The recipe with PyTorch's own dropout masks (torch.bernoulli_), to show what stancekit.train.dropout saves.
    "grouped_torch_dropout": (
        "as grouped, PyTorch's dropout masks (train.fast_dropout=false)",
        ["train.fast_dropout=false"],
    ),
    # Whether Inductor's fused kernels pay on a CPU once compiled (the compile time is reported apart).
    "grouped_compile": ("as grouped, the model compiled (train.torch_compile=true)", ["train.torch_compile=true"]),
    # Whether larger micro-batches pay for their memory: on AMX the bf16 products are so fast that each
    # micro-batch's fixed work (gradient conversions, per-operator dispatch) weighs (bench/step.py --profile).
    "grouped_mb32": (
        "as grouped, one micro-batch of 32 pairs (up to 2,048 tokens) per step instead of two of 16",
        ["train.batch_size=32", "train.gradient_accumulation_steps=1", "train.max_tokens_per_micro_batch=2048"],
    ),
}
OPT_IN_ROWS = ("grouped_compile", "grouped_mb32")  # run only when named in --rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default="nli_mix", help="experiment config ('' for none)")
    parser.add_argument("--data", default=None, help="data config, when not the experiment's")
    parser.add_argument("--model", default="packaged:all-MiniLM-L6-v2", help="model.name_or_path")
    parser.add_argument("--data-root", default=DEFAULT_DATA_ROOT, help="benchmark data root (paths.data_root)")
    parser.add_argument("--steps", type=int, default=60, help="optimiser steps per row")
    parser.add_argument(
        "--warmup-steps", type=int, default=0, help="first optimiser steps left out of the timing (compilation)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="train.batch_size of every row but pad128, which keeps 32"
    )
    parser.add_argument(
        "--rows",
        default=",".join(r for r in ROWS if r not in OPT_IN_ROWS),
        help=f"comma-separated subset of {list(ROWS)} (default: all but {OPT_IN_ROWS}: slow to compile)",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="extra config override for every row"
    )
    parser.add_argument(
        "--phases",
        action="store_true",
        help="also report each row's peak memory per phase of the run (setup, training, calibration, saving, "
        "test sets, ...); add --set run_test=true to include the test sets",
    )
    parser.add_argument("--json", default=str(PROJECT_ROOT / "bench" / "results" / "train.json"))
    parser.add_argument(
        "--peak-seconds", type=float, default=0.5, help="bench/peak.py's budget per product for MFU (0: no MFU)"
    )
    parser.add_argument("--child", choices=list(ROWS), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def non_embedding_params(model) -> int:
    """The weights a token's FLOPs scale with (MFU: 6 x these x tokens per training pass); embeddings are lookups."""
    return sum(p.numel() for n, p in model.named_parameters() if "embeddings" not in n)


def overrides(args: argparse.Namespace, row: str, run_dir: str) -> list[str]:
    """The config overrides of one row: the common short-run settings, the row's own, then ``--set``."""
    common = [f"experiment={args.experiment}"] if args.experiment else []
    common += [f"data={args.data}"] if args.data else []
    common += [
        f"model.name_or_path={args.model}",
        f"paths.data_root={args.data_root}",
        f"paths.output_dir={run_dir}",
        f"train.max_steps={args.steps}",
        "train.report_to=[none]",
        "train.disable_tqdm=true",
        "train.early_stopping_patience=0",
        "train.save_total_limit=1",
        "run_test=false",
    ]
    common += [f"train.batch_size={args.batch_size}"] if args.batch_size else []
    return common + ROWS[row][1] + list(args.set)


# ---------------------------------------------------------------------------------------------- child
# The steps of ``stancekit.train.recipe.train`` after the optimiser loop, by the names it calls them under; with
# --phases each is wrapped to record its own memory peak.
PHASE_FUNCTIONS = (
    "release_training_memory",
    "fit_on_dataset",
    "save_model_atomically",
    "run_suite",
    "evaluate_sets",
    "write_model_card",
    "count_over_length",
)


def memory_fields() -> dict[str, float]:
    """This process's memory lines of /proc/self/status (VmRSS, VmHWM, RssAnon, RssFile, ...) in MiB (Linux)."""
    lines = Path("/proc/self/status").read_text().splitlines()
    return {k: int(v.split()[0]) / 1024 for k, v in (line.split(":", 1) for line in lines) if v.strip().endswith("kB")}


def rss_now_and_peak() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MiB (Linux)."""
    fields = memory_fields()
    return fields["VmRSS"], fields["VmHWM"]


def reset_peak() -> None:
    """Reset this process's VmHWM to its current RSS (Linux >= 4.0), so the next peak is one phase's own."""
    Path("/proc/self/clear_refs").write_text("5")


class PhaseMemory:
    """Per-phase memory of a training run: RSS at the start and the end of each phase and its peak.

    The peak is exact, not sampled: the kernel's high-water mark is reset at every phase boundary. Phases:
    ``setup`` (to the first step), ``train`` (the optimiser loop; each checkpoint save is a phase of its own,
    ``_save_checkpoint``, and the loop goes on as ``after _save_checkpoint``), ``validate`` (the final
    evaluation, up to the first wrapped step), then one per ``PHASE_FUNCTIONS`` call and one after each.
    """

    def __init__(self) -> None:
        self.phases: list[dict] = []
        self._open: tuple[str, float] | None = None
        self._peak_so_far = 0.0  # the open phase's peak before its latest interval reset

    def start(self, name: str) -> None:
        self.stop()
        reset_peak()
        self._peak_so_far = 0.0
        self._open = (name, rss_now_and_peak()[0])

    def interval(self) -> tuple[float, float]:
        """(RSS now, peak since the last call or phase start), then reset the high-water mark; the open
        phase's peak still counts what came before. Called once per optimiser step, it gives per-step peaks."""
        now, peak = rss_now_and_peak()
        self._peak_so_far = max(self._peak_so_far, peak)
        reset_peak()
        return now, peak

    def stop(self) -> None:
        if self._open is None:
            return
        name, start = self._open
        now, peak = rss_now_and_peak()
        peak = max(peak, self._peak_so_far)
        self.phases.append({"phase": name, "rss_start_mb": start, "peak_mb": peak, "rss_end_mb": now})
        self._open = None

    def wrap(self, module: object, names: tuple[str, ...]) -> None:
        """Replace ``module.<name>`` by a wrapper that opens a phase for the call, and one after it."""
        for name in names:
            original = getattr(module, name)

            def wrapped(*args, _original=original, _name=name, **kwargs):
                self.start(_name)
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.start(f"after {_name}")

            setattr(module, name, wrapped)


def child(args: argparse.Namespace) -> dict:
    """Train one row in this (fresh) process with stancekit's own training code; return its numbers."""
    from hydra import compose, initialize_config_dir
    from transformers import Trainer, TrainerCallback

    import stancekit.train.recipe as recipe
    from stancekit.config import CONFIG_DIR
    from stancekit.train import train
    from stancekit.train.trainer import resolve_precision

    class StepClock(TrainerCallback):
        """Times the optimiser steps only (evaluation and saving happen outside them) and samples memory."""

        def __init__(self, phases: PhaseMemory | None, warmup_steps: int):
            self.first = self.last = None
            self.steps = self.first_step = 0
            self.warmup_steps = warmup_steps
            self.started = time.perf_counter()
            self.rss_setup = self.rss_train = 0.0
            self.phases = phases
            self.rss_by_step: list[dict] = []

        def on_train_begin(self, args, state, control, model=None, **kwargs):
            self.rss_setup = peak_rss_mb()
            # MFU counts 6 x non-embedding parameters x real tokens per training pass (forward 2, backward 4).
            self.params = non_embedding_params(model)
            self.tokens = self.padded = 0
            model.register_forward_pre_hook(self.count_tokens, with_kwargs=True)

        def count_tokens(self, module, args, kwargs):
            mask = kwargs.get("attention_mask")
            if module.training and mask is not None and self.first is not None:  # optimiser steps only
                self.tokens += int(mask.sum())
                self.padded += mask.numel()

        def on_step_begin(self, args, state, control, **kwargs):
            if self.first is None and state.global_step >= self.warmup_steps:
                self.first = time.perf_counter()
                self.first_step = state.global_step
                self.warmup_seconds = self.first - self.started  # setup and the untimed first steps
                if self.phases:
                    self.phases.start("train")

        def on_train_end(self, args, state, control, **kwargs):
            if self.phases:
                self.phases.start("validate")  # the best checkpoint's reload, then trainer.evaluate()

        def on_step_end(self, args, state, control, **kwargs):
            if self.first is None:
                return
            self.last = time.perf_counter()
            self.steps = state.global_step - self.first_step
            # VmHWM is kept lazily by the kernel (RSS counters are synced in batches), so a later read can come
            # out a fraction of a MB below an earlier one: the peaks here are maxima over every read.
            self.rss_train = max(self.rss_train, self.rss_setup, peak_rss_mb())
            if self.phases:
                # Each step's own peak and the RSS it leaves behind: a spike and a creep look different.
                now, peak = self.phases.interval()
                self.rss_by_step.append({"step": state.global_step, "rss_mb": now, "peak_mb": peak})

    with tempfile.TemporaryDirectory() as run_dir:
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
            cfg = compose("train", overrides(args, args.child, run_dir))
        phases = PhaseMemory() if args.phases else None
        if phases:
            phases.wrap(recipe, PHASE_FUNCTIONS)
            # Checkpoints are written inside the optimiser loop (weights, optimiser state, RNG states).
            phases.wrap(Trainer, ("_save_checkpoint",))
            phases.start("setup")
        clock = StepClock(phases, args.warmup_steps)
        started = time.perf_counter()
        result = train(cfg, callbacks=[clock])
        wall = time.perf_counter() - started
        if phases:
            phases.stop()
            # The high-water mark was reset at every phase boundary: the run's peaks are the phases' maxima.
            clock.rss_train = max(p["peak_mb"] for p in phases.phases if p["phase"] in ("setup", "train"))
        summary = json.loads((Path(run_dir) / "train_summary.json").read_text(encoding="utf-8"))
    per_step = cfg.train.batch_size * cfg.train.gradient_accumulation_steps
    resolved = resolve_precision(cfg.train.precision, cfg.train.device)
    seconds = clock.last - clock.first
    examples_per_second = clock.steps * per_step / seconds
    return {
        "row": args.child,
        "description": ROWS[args.child][0],
        "overrides": ROWS[args.child][1] + list(args.set),
        "steps": clock.steps,
        "examples": clock.steps * per_step,
        "train_seconds": seconds,
        "warmup_steps": clock.first_step,
        "warmup_seconds": clock.warmup_seconds,
        "examples_per_second": examples_per_second,
        "train_examples": summary["train_examples"],
        "epoch_minutes": summary["train_examples"] / examples_per_second / 60,
        "wall_seconds": wall,
        "peak_rss_mb_setup": clock.rss_setup,
        "peak_rss_mb_train": clock.rss_train,
        "peak_rss_mb": max(clock.rss_train, max(p["peak_mb"] for p in phases.phases) if phases else peak_rss_mb()),
        "max_length": cfg.model.max_length,
        "batch_size": cfg.train.batch_size,
        "gradient_accumulation_steps": cfg.train.gradient_accumulation_steps,
        "precision": "bf16" if resolved["bf16"] else "fp16" if resolved["fp16"] else "fp32",
        "non_embedding_params": clock.params,
        "train_tokens": clock.tokens,
        "padded_tokens": clock.padded,
        "model_tflops": 6 * clock.params * clock.tokens / seconds / 1e12,
        "val_accuracy": result.validation["eval_accuracy"],
        "val_macro_f1": result.validation["eval_macro_f1"],
        **({"phases": phases.phases, "rss_by_step": clock.rss_by_step} if phases else {}),
    }


# ---------------------------------------------------------------------------------------------- parent
def run_child(row: str, argv: list[str]) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), *argv, "--child", row]
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(f"row {row} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")


def table(rows: list[dict]) -> str:
    """Markdown table, with the ratio of examples/second to the first row."""
    base = rows[0]["examples_per_second"]
    lines = [
        "| recipe | precision | examples/s | × first row | model TFLOP/s | MFU | epoch (min, projected) "
        "| peak RSS train / all (MB) | val acc | val macro-F1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        tflops = f"{r['model_tflops']:.3f}" if r.get("model_tflops") is not None else "–"
        mfu = f"{r['mfu']:.1%}" if r.get("mfu") is not None else "–"
        lines.append(
            f"| {r['description']} | {r['precision']} | {r['examples_per_second']:.1f} | "
            f"{r['examples_per_second'] / base:.2f}× | {tflops} | {mfu} | "
            f"{r['epoch_minutes']:.1f} | {r['peak_rss_mb_train']:.0f} / {r['peak_rss_mb']:.0f} | "
            f"{r['val_accuracy']:.4f} | {r['val_macro_f1']:.4f} |"
        )
    return "\n".join(lines)


def phase_table(rows: list[dict]) -> str:
    """Markdown table of each row's memory per phase, in the order the phases ran (repeats merged)."""
    lines = [
        "| recipe | phase | calls | RSS at start (MB) | peak (MB) | RSS at end (MB) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        merged: dict[str, dict] = {}
        for p in r.get("phases", []):
            m = merged.setdefault(p["phase"], {**p, "calls": 0})
            m["calls"] += 1
            m["peak_mb"] = max(m["peak_mb"], p["peak_mb"])
            m["rss_end_mb"] = p["rss_end_mb"]
        for name, m in merged.items():
            lines.append(
                f"| {r['row']} | {name} | {m['calls']} | {m['rss_start_mb']:.0f} | {m['peak_mb']:.0f} | "
                f"{m['rss_end_mb']:.0f} |"
            )
    return "\n".join(lines)


def extra_tables(rows: list[dict]) -> list[tuple[str, str]]:
    """The tables a record of this bench shows after its main one, each with its heading (bench/results.py)."""
    if any(r.get("phases") for r in rows):  # --phases
        return [("Peak memory per phase of each row's run:", phase_table(rows))]
    return []


def main(argv: list[str] | None = None) -> dict | None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.child:
        print(RESULT_PREFIX + json.dumps(child(args)), flush=True)
        return None
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    if not 0 <= args.warmup_steps < args.steps:
        raise SystemExit(f"--warmup-steps must be in [0, --steps); got {args.warmup_steps} with --steps {args.steps}")
    unknown = set(rows) - set(ROWS)
    if unknown:
        raise SystemExit(f"unknown rows {sorted(unknown)}; known: {list(ROWS)}")
    stop_children_on_sigterm()
    results = []
    for row in rows:
        print(f"[bench] {row}: {ROWS[row][0]} ...", file=sys.stderr, flush=True)
        results.append(run_child(row, argv))
    peaks = None
    if args.peak_seconds > 0:
        import peak as peak_bench  # bench/peak.py: this machine's matrix-product peak, same thread count

        from stancekit.system import default_num_threads

        peaks = peak_bench.measure_peaks(default_num_threads(), args.peak_seconds, ("fp32", "bf16"))
        for r in results:
            r["mfu"] = r["model_tflops"] / peaks["peak"][r["precision"]] if r["precision"] in peaks["peak"] else None
    result = {
        **provenance("bench/train.py", argv),
        "peak": peaks,
        "model": args.model,
        "experiment": args.experiment,
        "steps": args.steps,
        "rows": results,
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{args.steps} steps per row, {args.model}, experiment {args.experiment or '-'}; {result['machine']}")
    print(table(results))
    if peaks:
        print("\nMFU: 6 x non-embedding parameters x real tokens per optimiser-step second, over this machine's")
        print("matrix-product peak in the row's precision (bench/peak.py, same threads):\n")
        print(peak_bench.table(peaks))
    if args.phases:
        print(phase_table(results))
    print(f"JSON: {out}")
    return result


if __name__ == "__main__":
    main()
