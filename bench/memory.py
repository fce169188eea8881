"""Evaluation memory against the number of pairs: does peak RSS depend on the model and the batch, or on the data?

    python bench/memory.py --model-dir outputs/nli_mix/model                  # SNLI test repeated to 10k and 100k
    python bench/memory.py --model-dir RUN/model --sizes 10000,100000 --backends torch,onnx-int8
    python bench/memory.py --model-dir RUN/model --document fnc1 --backends torch,onnx,onnx-int8

Each row is one real ``scripts/evaluate.py`` run in a fresh subprocess, its peak resident memory read from the
kernel when it exits (``wait4``'s ``ru_maxrss``: the child's own high-water mark, so rows do not mix):

  pairs     ``data=jsonl data.test_file=FILE``, FILE made by repeating the first test set of ``--data`` until it
            holds each of ``--sizes`` pairs (ids made unique), so a row differs from the smallest only in n.
            The smallest size is the baseline: a larger set should cost time, not memory.
  document  ``mode=document data=--document`` (FNC-1's whole competition test, the document view), per backend.

A backend other than torch is exported, converted and (int8-static, openvino-int8) calibrated on ``--data``'s
training pairs first, in a subprocess of its own whose peak is a row of its own (mode ``prepare``): that
one-off work is cached in the model folder, and the evaluation rows measure what a user's second run costs.

Prints a table (peak RSS, wall time, pairs/s, the growth over the smallest size) and the issue's goals, and
writes JSON (``--json``) that ``bench/results.py record`` turns into docs/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import inference as inference_bench  # noqa: E402

PROJECT_ROOT = BENCH.parent
EVALUATE = PROJECT_ROOT / "scripts" / "evaluate.py"
GOALS_MB = {"pairs": 1536, "document": 2048}  # issue #17: <= 1.5 GB on 100k pairs, <= 2 GB on FNC-1's test


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", default=str(inference_bench.DEFAULT_MODEL), help="a saved stance model")
    parser.add_argument("--data-root", default=inference_bench.DEFAULT_DATA_ROOT, help="paths.data_root")
    parser.add_argument("--data", default="snli", help="data config whose first test set is repeated")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated pair counts (mode=pairs)")
    parser.add_argument("--backends", default="torch", help="comma-separated backends, each a row per size")
    parser.add_argument("--document", default="", help="also run mode=document on this data config (fnc1)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra evaluate override")
    parser.add_argument("--json", default=str(BENCH / "results" / "memory.json"))
    return parser.parse_args(argv)


def repeated_pairs_file(data: str, data_root: str, n: int, path: Path) -> str:
    """Write ``n`` pairs to ``path`` (JSON Lines) by cycling the first test set of data config ``data``;
    return that set's name."""
    from omegaconf import OmegaConf

    from stancekit.data import build_splits
    from stancekit.labels import LABELS
    from stancekit.runs.common import load_data_config

    paths = OmegaConf.create({"data_root": data_root, "root_dir": str(PROJECT_ROOT)})
    splits = build_splits(load_data_config(data, paths), data_root, ("test",))
    name, ds = next(iter(splits.test.items()))
    rows = list(zip(ds["id"], ds["premise"], ds["hypothesis"], ds["label"]))
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            pid, premise, hypothesis, label = rows[i % len(rows)]
            record = {"id": f"{pid}#{i // len(rows)}", "premise": premise, "hypothesis": hypothesis}
            f.write(json.dumps({**record, "label": LABELS[label]}) + "\n")
    return name


def run_evaluate(overrides: list[str], out_dir: Path) -> dict:
    """One ``scripts/evaluate.py`` run in a subprocess: its wall time and peak RSS (MB), and what it reported."""
    cmd = [sys.executable, str(EVALUATE), *overrides, f"hydra.run.dir={out_dir}"]
    start = time.perf_counter()
    with open(out_dir.parent / f"{out_dir.name}.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        tail = (out_dir.parent / f"{out_dir.name}.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"evaluate failed: {shlex.join(cmd)}\n{tail}")
    sets = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))["sets"]
    n = sum(b["n"] for b in sets.values())
    return {
        "peak_rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "wall_s": wall,
        "n": n,
        "pairs_per_second": n / wall,
        "macro_f1": {name: b["macro_f1"] for name, b in sets.items()},
    }


def prepare_backend(args: argparse.Namespace, backend: str) -> dict:
    """Convert (and calibrate) ``backend``'s files into the model folder in a subprocess, before any row
    runs: its wall time and peak RSS (MB), so no row's peak includes the one-off export."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import inference as b; "
        "a = b.parse_args(sys.argv[2:]); b.prepare_converted(a, a.variants.split(','))"
    )
    cmd = [sys.executable, "-c", code, str(BENCH), "--model-dir", str(Path(args.model_dir).resolve())]
    cmd += ["--data", args.data, "--data-root", args.data_root, "--variants", backend]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"preparing backend {backend} failed: {shlex.join(cmd)}\n{output[-3000:]}")
    wall = time.perf_counter() - start
    return {
        "mode": "prepare",
        "set": "convert once",
        "backend": backend,
        "n": 0,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "wall_s": wall,
        "pairs_per_second": 0.0,
    }


def write_json(result: dict, path: Path) -> None:
    """Write ``result`` to ``path`` whole (a temporary file renamed over it), so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def run(args: argparse.Namespace, out: Path) -> dict:
    """Every row in order; the JSON at ``out`` is rewritten after each one, because a whole-set document row can
    take half an hour: a run stopped part way keeps the rows it finished."""
    sizes = [int(s) for s in args.sizes.split(",") if s]
    backends = [b for b in args.backends.split(",") if b]
    result = {
        **inference_bench.provenance("bench/memory.py", sys.argv[1:] if args.argv is None else args.argv),
        "model_dir": str(args.model_dir),
        "rows": [],
    }
    rows = result["rows"]

    def add(row: dict, message: str) -> None:
        rows.append(row)
        write_json(result, out)
        print(message, flush=True)

    for b in backends:
        if b != "torch":
            r = prepare_backend(args, b)
            add(r, f"prepared {b}: {r['peak_rss_mb']:.0f} MB, {r['wall_s']:.0f} s (one-off)")
    common = [f"model_dir={Path(args.model_dir).resolve()}", f"paths.data_root={args.data_root}", *args.set]
    with tempfile.TemporaryDirectory(prefix="stancekit-memory-") as tmp:
        work = Path(tmp)
        for n in sizes:
            file = work / f"pairs_{n}.jsonl"
            source = repeated_pairs_file(args.data, args.data_root, n, file)
            for backend in backends:
                got = run_evaluate(
                    [*common, "data=jsonl", f"data.test_file={file}", f"backend={backend}"],
                    work / f"pairs_{n}_{backend}",
                )
                row = {"mode": "pairs", "set": f"{source} x{n / 1000:g}k", "backend": backend, **got}
                add(row, f"pairs n={n} {backend}: {got['peak_rss_mb']:.0f} MB, {got['wall_s']:.0f} s")
        if args.document:
            for backend in backends:
                got = run_evaluate(
                    [*common, "mode=document", f"data={args.document}", f"backend={backend}"],
                    work / f"document_{backend}",
                )
                row = {"mode": "document", "set": args.document, "backend": backend, **got}
                add(row, f"document {args.document} {backend}: {got['peak_rss_mb']:.0f} MB, {got['wall_s']:.0f} s")
    return result


def table(rows: list[dict]) -> str:
    """Markdown table: one row per evaluate run, with its peak RSS against the smallest pairs run of its backend."""
    smallest: dict[str, dict] = {}
    for r in rows:
        if r["mode"] == "pairs" and (r["backend"] not in smallest or r["n"] < smallest[r["backend"]]["n"]):
            smallest[r["backend"]] = r
    lines = [
        "| mode | set | backend | pairs | peak RSS (MB) | × smallest | wall (s) | pairs/s |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        base = smallest.get(r["backend"]) if r["mode"] == "pairs" else None
        ratio = f"{r['peak_rss_mb'] / base['peak_rss_mb']:.2f}×" if base else "–"
        pairs, rate = (f"{r['n']:,}", f"{r['pairs_per_second']:.0f}") if r["n"] else ("–", "–")
        lines.append(
            f"| {r['mode']} | {r['set']} | {r['backend']} | {pairs} | {r['peak_rss_mb']:.0f} | {ratio} | "
            f"{r['wall_s']:.0f} | {rate} |"
        )
    return "\n".join(lines)


def goals(result: dict) -> list[str]:
    """The issue's memory goals, each with the number reached."""
    lines = []
    for mode, what in (("pairs", "scripts/evaluate.py on the largest pairs file"), ("document", "document view")):
        chosen = [r for r in result["rows"] if r["mode"] == mode]
        if mode == "pairs" and chosen:
            largest = max(r["n"] for r in chosen)
            chosen = [r for r in chosen if r["n"] == largest]
        for r in chosen:
            ok = "met" if r["peak_rss_mb"] <= GOALS_MB[mode] else "missed"
            lines.append(
                f"{what} ({r['set']}, {r['n']:,} pairs, {r['backend']}): peak RSS {r['peak_rss_mb']:.0f} MB "
                f"(goal <= {GOALS_MB[mode]}: {ok})"
            )
    return lines


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    args.argv = argv
    out = Path(args.json)
    result = run(args, out)
    result["goals"] = goals(result)
    print(table(result["rows"]))
    print("\n".join(f"- {g}" for g in result["goals"]))
    write_json(result, out)
    return result


if __name__ == "__main__":
    main()
