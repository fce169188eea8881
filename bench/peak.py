"""The machine's own yardstick: how fast this CPU multiplies fp32, bf16 and int8 matrices (issue #17).

    python bench/peak.py                      # every precision and shape, the physical cores' threads
    python bench/peak.py --threads 1 --seconds 2 --json bench/results/peak.json

A model's FLOP/s means little alone: 0.2 TFLOP/s is near the top of an old AVX2 laptop and a small share of
a CPU with AMX tiles. So the benches divide what the model reaches by what this machine's matrix units reach
with the same thread count, measured here: the best rate over ``--seconds`` of repeated products, per
precision, through each library a backend runs on: ``fp32``, ``bf16``, ``int8`` are PyTorch's
(``torch.matmul``; ``torch._int_mm`` for int8 x int8 -> int32; oneDNN/MKL, as the model's own layers are),
``-ort`` rows ONNX Runtime's (``MatMul``, ``MatMulInteger``: the kernels of the ``onnx`` backends), ``-ov``
rows OpenVINO's CPU plugin (``MatMul`` compiled at the precision's ``INFERENCE_PRECISION_HINT``: the
``openvino`` backends). A precision's peak is the best of its libraries and shapes: what this CPU can do, not
what one library does (MKL's fp32 on an AMD CPU, for one, stays well below ONNX Runtime's and OpenVINO's).
A row whose library is not installed, or bf16 without native bf16, is left out. Shapes:

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
PRECISIONS = ("fp32", "bf16", "int8", "fp32-ort", "int8-ort", "fp32-ov", "bf16-ov")
LIBRARIES = {"ort": "onnxruntime", "ov": "openvino"}


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
    if precision.endswith("-ort"):
        product = onnx_product(shape, precision.removesuffix("-ort"))
    elif precision.endswith("-ov"):
        product = openvino_product(shape, precision.removesuffix("-ov"))
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


def onnx_product(shape: tuple[int, int, int], precision: str):
    """One ONNX Runtime product on the CPU: ``MatMul`` in fp32, or ``MatMulInteger`` (uint8 activations x
    int8 weights -> int32) for int8, with constant weights as the ``onnx`` backends' layers have them."""
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper

    m, k, n = shape
    rng = np.random.default_rng(0)
    if precision == "int8":
        b = rng.integers(-128, 128, (k, n)).astype(np.int8)
        a = rng.integers(0, 256, (m, k)).astype(np.uint8)
        op, a_type, b_type, y_type = "MatMulInteger", TensorProto.UINT8, TensorProto.INT8, TensorProto.INT32
    else:
        b = rng.standard_normal((k, n)).astype(np.float32)
        a = rng.standard_normal((m, k)).astype(np.float32)
        op, a_type, b_type, y_type = "MatMul", TensorProto.FLOAT, TensorProto.FLOAT, TensorProto.FLOAT
    weights = helper.make_tensor("b", b_type, (k, n), b.tobytes(), raw=True)
    graph = helper.make_graph(
        [helper.make_node(op, ["a", "b"], ["y"])],
        "mm",
        [helper.make_tensor_value_info("a", a_type, (m, k))],
        [helper.make_tensor_value_info("y", y_type, (m, n))],
        initializer=[weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch_threads()
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return lambda: session.run(None, {"a": a})


def openvino_product(shape: tuple[int, int, int], precision: str):
    """One ``MatMul`` with constant weights compiled by OpenVINO's CPU plugin at ``precision`` (fp32, bf16)."""
    import numpy as np
    import openvino as ov
    import openvino.opset13 as ops

    m, k, n = shape
    rng = np.random.default_rng(0)
    a = ops.parameter([m, k], ov.Type.f32, name="a")
    b = ops.constant(rng.standard_normal((k, n)).astype(np.float32))
    model = ov.Model([ops.matmul(a, b, False, False)], [a], "mm")
    config = {"INFERENCE_PRECISION_HINT": {"fp32": "f32", "bf16": "bf16"}[precision]}
    config |= {"INFERENCE_NUM_THREADS": torch_threads(), "PERFORMANCE_HINT": "LATENCY"}
    request = ov.Core().compile_model(model, "CPU", config).create_infer_request()
    x = rng.standard_normal((m, k)).astype(np.float32)
    return lambda: request.infer({0: x})


def available(precision: str) -> bool:
    """Whether this machine can run the row: its library installed, bf16 only where it is native."""
    import importlib.util

    from stancekit.system import cpu_has_native_bf16

    base, _, library = precision.partition("-")
    if library and importlib.util.find_spec(LIBRARIES[library]) is None:
        return False
    return base != "bf16" or not library or cpu_has_native_bf16()


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
    tflops = {
        p: {name: measure(p, shape, seconds) for name, shape in shapes.items()} for p in precisions if available(p)
    }
    # A precision's peak is the best of every library's kernels for it (fp32-ort and fp32-ov count for fp32).
    peak: dict[str, float] = {}
    for p, by_shape in tflops.items():
        base = p.partition("-")[0]
        peak[base] = max(peak.get(base, 0.0), *by_shape.values())
    return {"threads": threads, "tflops": tflops, "peak": peak}


def table(result: dict) -> str:
    shapes = list(next(iter(result["tflops"].values())))
    lines = ["| precision | " + " | ".join(shapes) + " | peak |", "|---|" + "---:|" * (len(shapes) + 1)]
    for precision, by_shape in result["tflops"].items():
        cells = " | ".join(f"{by_shape[s]:.2f}" for s in shapes)
        best = max(by_shape.values())
        top = best == result["peak"].get(precision.partition("-")[0])
        lines.append(f"| {precision} | {cells} | {f'**{best:.2f}**' if top else f'{best:.2f}'} |")
    heading = "TFLOP/s, best of repeated products (bold: the precision's peak, the best of its libraries):"
    return heading + "\n\n" + "\n".join(lines)


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
