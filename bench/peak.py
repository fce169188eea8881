"""The machine's own yardstick: how fast this CPU multiplies fp32, bf16 and int8 matrices (issue #17).

    python bench/peak.py                      # every precision and shape, the physical cores' threads
    python bench/peak.py --threads 1 --seconds 2 --json bench/results/peak.json

A model's FLOP/s means little alone: 0.2 TFLOP/s is near the top of an old AVX2 laptop and a small share of
a CPU with AMX tiles. So the benches divide what the model reaches by what this machine's matrix units reach
with the same thread count, measured here: the best rate over ``--seconds`` of repeated products, per
precision (``torch.matmul`` in fp32 and bf16, ``torch._int_mm`` for int8 x int8 -> int32, each through
oneDNN/MKL as the model's own layers are; ``int8-ort``: ONNX Runtime's ``MatMulInteger``, the kernel of the
``onnx-int8`` backend; int8's peak is the better of the two) and per shape:

  square      2048 x 2048 x 2048: the plain peak
  minilm_ffn  4096 tokens x 384 -> 1536: MiniLM's feed-forward product (the model's largest)
  mpnet_ffn   4096 tokens x 768 -> 3072: MPNet's

The peak of a precision is its best shape. Model FLOP utilisation (MFU) in bench/inference.py and
bench/train.py is the model's FLOP/s (2 x non-embedding parameters x real tokens per forward pass, 3 times
that per training step) over the peak of the precision it runs in.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHAPES = {"square": (2048, 2048, 2048), "minilm_ffn": (4096, 384, 1536), "mpnet_ffn": (4096, 768, 3072)}
PRECISIONS = ("fp32", "bf16", "int8", "int8-ort")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: the physical cores)")
    parser.add_argument("--seconds", type=float, default=1.0, help="timing budget per precision and shape")
    parser.add_argument("--precisions", default=",".join(PRECISIONS))
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--json", default=str(PROJECT_ROOT / "bench" / "results" / "peak.json"))
    return parser.parse_args(argv)


def measure(precision: str, shape: tuple[int, int, int], seconds: float) -> float:
    """Best TFLOP/s of an (m x k) @ (k x n) product in ``precision`` over ``seconds`` of repeats."""
    import torch

    m, k, n = shape
    generator = torch.Generator().manual_seed(0)
    if precision == "int8-ort":
        product = onnx_int8_product(shape)
    elif precision == "int8":
        a = torch.randint(-128, 128, (m, k), dtype=torch.int8, generator=generator)
        b = torch.randint(-128, 128, (k, n), dtype=torch.int8, generator=generator)

        def product():
            return torch._int_mm(a, b)
    else:
        dtype = torch.float32 if precision == "fp32" else torch.bfloat16
        a = torch.randn(m, k, generator=generator).to(dtype)
        b = torch.randn(k, n, generator=generator).to(dtype)

        def product():
            return torch.matmul(a, b)

    product()  # warm-up: the kernel is chosen, tiles are configured, pages are touched
    best, deadline = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < deadline or best == float("inf"):
        start = time.perf_counter()
        product()
        best = min(best, time.perf_counter() - start)
    return 2 * m * k * n / best / 1e12


def onnx_int8_product(shape: tuple[int, int, int]):
    """A ``MatMulInteger`` (uint8 activations x int8 weights -> int32) run by ONNX Runtime on the CPU, as the
    ``onnx-int8`` backend's quantised layers are; ``None`` without onnxruntime."""
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper

    m, k, n = shape
    rng = np.random.default_rng(0)
    weights = helper.make_tensor(
        "b", TensorProto.INT8, (k, n), rng.integers(-128, 128, (k, n)).astype(np.int8).tobytes(), raw=True
    )
    node = helper.make_node("MatMulInteger", ["a", "b"], ["y"])
    graph = helper.make_graph(
        [node],
        "mm",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, (m, k))],
        [helper.make_tensor_value_info("y", TensorProto.INT32, (m, n))],
        initializer=[weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch_threads()
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    a = rng.integers(0, 256, (m, k)).astype(np.uint8)
    return lambda: session.run(None, {"a": a})


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def measure_peaks(
    threads: int, seconds: float = 1.0, precisions: tuple[str, ...] = PRECISIONS, shapes: dict | None = None
) -> dict:
    """``{"threads", "tflops": {precision: {shape: TFLOP/s}}, "peak": {precision: best TFLOP/s}}``."""
    import torch

    torch.set_num_threads(threads)
    shapes = SHAPES if shapes is None else shapes
    tflops = {p: {name: measure(p, shape, seconds) for name, shape in shapes.items()} for p in precisions}
    peak = {p: max(by_shape.values()) for p, by_shape in tflops.items()}
    # int8's peak is the better of PyTorch's and ONNX Runtime's kernels (the onnx-int8 backend runs the latter).
    int8 = [peak.pop(p) for p in ("int8", "int8-ort") if p in peak]
    if int8:
        peak["int8"] = max(int8)
    return {"threads": threads, "tflops": tflops, "peak": peak}


def table(result: dict) -> str:
    shapes = list(next(iter(result["tflops"].values())))
    lines = ["| precision | " + " | ".join(shapes) + " | peak |", "|---|" + "---:|" * (len(shapes) + 1)]
    for precision, by_shape in result["tflops"].items():
        cells = " | ".join(f"{by_shape[s]:.2f}" for s in shapes)
        best = result["peak"].get(precision)
        lines.append(f"| {precision} | {cells} | {f'**{best:.2f}**' if best is not None else 'see int8'} |")
    return "TFLOP/s, best of repeated products:\n\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import inference as inference_bench

    from stancekit.system import default_num_threads

    threads = args.threads or default_num_threads()
    shapes = {name: SHAPES[name] for name in args.shapes.split(",") if name}
    result = measure_peaks(threads, args.seconds, tuple(p for p in args.precisions.split(",") if p), shapes)
    result |= {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": inference_bench.machine(),
        "command": "python bench/peak.py " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{result['machine']['cpu']} ({', '.join(result['machine']['features'])}), {threads} threads")
    print(table(result))
    return result


if __name__ == "__main__":
    main()
