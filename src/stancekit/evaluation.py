"""Score predictions on one or more labelled sets and write what a person reads: metrics, plots, report.

A set that has only some of our labels (FEVER-Symmetric: support and contradict) is scored on the labels
it has: macro-F1 averages over those, and predicting the absent label counts as an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: runs on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from datasets import Dataset  # noqa: E402
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support  # noqa: E402

from . import calibration  # noqa: E402
from .artifacts import save_figure_atomically, write_text_atomic  # noqa: E402
from .labels import LABELS  # noqa: E402

# Anything that maps (premise, hypothesis) pairs to logits of shape (n, 3) in LABELS order: the wrapper's
# predict_logits, a baseline's log-probabilities, a document aggregator's log-probabilities.
LogitsFn = Callable[[Sequence[tuple[str, str]]], np.ndarray]


def compute_metrics(y_true: Sequence[int], y_pred: Sequence[int]) -> dict:
    """Accuracy, macro-F1 over the labels present in ``y_true``, per-label P/R/F1/support, confusion matrix."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    all_ids = list(range(len(LABELS)))
    present = sorted(set(y_true.tolist()))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=all_ids, zero_division=0)
    return {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)) if len(y_true) else 0.0,
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "labels_scored": [LABELS[i] for i in present],
        "per_label": {
            LABELS[i]: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i in all_ids
        },
        # Rows are the gold label, columns the prediction, both in LABELS order.
        "confusion_matrix": {
            "labels": list(LABELS),
            "matrix": confusion_matrix(y_true, y_pred, labels=all_ids).tolist(),
        },
    }


def predict_set(predict_logits: LogitsFn, dataset: Dataset) -> np.ndarray:
    pairs = list(zip(dataset["premise"], dataset["hypothesis"]))
    return np.asarray(predict_logits(pairs), dtype=np.float64)


def evaluate_sets(
    predict_logits: LogitsFn,
    sets: Mapping[str, Dataset],
    out_dir: str | Path,
    title: str = "Evaluation",
    context: str = "",
    temperature: float = 1.0,
    capabilities: dict | None = None,
) -> dict:
    """Predict every set, then write metrics.json, report.md, the plots and predictions.jsonl.

    Probabilities are ``softmax(logits / temperature)``; each set's block also has ECE and NLL before and
    after that scaling and accuracy at 100/90/80/50 % coverage. Returns the metrics: with one set, the set's
    block itself (``accuracy``, ``macro_f1``, ``ece``, ...); with several, one block per set name. A
    capability-suite result, when given, is added under ``capabilities`` and reported.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    blocks: dict[str, dict] = {}
    predictions: dict[str, np.ndarray] = {}
    curves: dict[str, tuple] = {}
    for name, dataset in sets.items():
        logits = predict_set(predict_logits, dataset)
        labels = list(dataset["label"])
        predictions[name] = calibration.probabilities(logits, temperature)
        blocks[name] = compute_metrics(labels, logits.argmax(axis=1).tolist())
        blocks[name]["name"] = name
        blocks[name].update(calibration.calibration_block(logits, labels, temperature))
        curves[name] = (logits, labels, temperature)
    metrics = dict(next(iter(blocks.values()))) if len(blocks) == 1 else dict(blocks)
    if capabilities is not None:
        metrics["capabilities"] = capabilities
    _write_json(out / "metrics.json", metrics)
    _write_predictions(out / "predictions.jsonl", sets, predictions)
    if blocks:
        plot_confusion_matrices(blocks, out / "confusion_matrix.png")
        calibration.plot_reliability(curves, out / "reliability.png")
        calibration.plot_coverage(curves, out / "coverage.png")
    write_text_atomic(out / "report.md", render_report(blocks, title, context, capabilities))
    return metrics


def _write_json(path: Path, obj: object) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def _write_predictions(path: Path, sets: Mapping[str, Dataset], predictions: Mapping[str, np.ndarray]) -> None:
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for name, dataset in sets.items():
            probs = predictions[name]
            for row, p in zip(dataset, probs):
                record = {
                    "set": name,
                    "id": row["id"],
                    "premise": row["premise"],
                    "hypothesis": row["hypothesis"],
                    "gold": LABELS[row["label"]],
                    "prediction": LABELS[int(p.argmax())],
                    "probabilities": {lab: round(float(v), 6) for lab, v in zip(LABELS, p)},
                }
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _calibration_section(blocks: Mapping[str, dict]) -> list[str]:
    coverages = [f"{int(c * 100)}%" for c in calibration.COVERAGES]
    lines = [
        "## Calibration and selective prediction",
        "",
        f"Temperature scaling (T fitted on the validation split); ECE with {calibration.ECE_BINS} equal-width bins. "
        "Accuracy at coverage c: accuracy on the c most confident share of pairs (the rest abstained).",
        "",
        "| set | T | ECE before | ECE after | NLL before | NLL after | " + " | ".join(f"acc @ {c}" for c in coverages)
        + " |",
        "|---|---:|---:|---:|---:|---:|" + "---:|" * len(coverages),
    ]
    for name, b in blocks.items():
        acc = b.get("accuracy_at_coverage", {})
        lines.append(
            f"| {name} | {b['temperature']:.3f} | {b['ece_before']:.4f} | {b['ece']:.4f} | {b['nll_before']:.4f} | "
            f"{b['nll']:.4f} | " + " | ".join(f"{acc.get(c, float('nan')):.4f}" for c in coverages) + " |"
        )
    lines += ["", "![reliability diagrams](reliability.png) ![accuracy vs coverage](coverage.png)", ""]
    return lines


def render_capabilities(result: dict, max_examples: int = 3) -> list[str]:
    """The capability suite: pass rate per capability, then a few failing examples of each."""
    lines = ["## Capabilities", "", "| capability | pairs | pass rate | what passes |", "|---|---:|---:|---|"]
    for name, cap in result.items():
        lines.append(f"| {name} | {cap['n']} | {cap['pass_rate']:.3f} | {cap['criterion']} |")
    lines.append("")
    for name, cap in result.items():
        if cap["failures"]:
            lines += [f"Failing `{name}` examples:", ""]
            for f in cap["failures"][:max_examples]:
                lines.append(f"- premise: {f['premise']!r} / hypothesis: {f['hypothesis']!r} → expected "
                             f"{f['expected']}, got {f['predicted']} ({f['confidence']:.2f})")
            lines.append("")
    return lines


def plot_confusion_matrices(blocks: Mapping[str, dict], path: Path) -> None:
    """One panel per set; cells show counts, colour shows the share of each gold row."""
    fig, axes = calibration.panel_grid(len(blocks))
    for ax, (name, block) in zip(axes, blocks.items()):
        matrix = np.asarray(block["confusion_matrix"]["matrix"], dtype=float)
        shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(LABELS)):
            for j in range(len(LABELS)):
                ax.text(
                    j, i, int(matrix[i, j]), ha="center", va="center", color="white" if shares[i, j] > 0.5 else "black"
                )
        ax.set_xticks(range(len(LABELS)), LABELS, rotation=30)
        ax.set_yticks(range(len(LABELS)), LABELS)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(f"{name}\nacc {block['accuracy']:.3f}  macro-F1 {block['macro_f1']:.3f}", fontsize=10)
    fig.tight_layout()
    save_figure_atomically(fig, path, dpi=110)
    plt.close(fig)


def render_report(
    blocks: Mapping[str, dict], title: str, context: str = "", capabilities: dict | None = None
) -> str:
    """A Markdown report: one summary row per set, calibration and coverage, capabilities, then per set
    the per-label scores and the confusion matrix."""
    lines = [f"# {title}", ""]
    if context:
        lines += [context, ""]
    if blocks:
        lines += ["| set | n | accuracy | macro-F1 | ECE | scored on |", "|---|---:|---:|---:|---:|---|"]
        for name, b in blocks.items():
            lines.append(
                f"| {name} | {b['n']} | {b['accuracy']:.4f} | {b['macro_f1']:.4f} | {b.get('ece', float('nan')):.4f} "
                f"| {', '.join(b['labels_scored'])} |"
            )
        if len(blocks) > 1:
            mean = {k: float(np.mean([b[k] for b in blocks.values()])) for k in ("accuracy", "macro_f1", "ece")}
            lines.append(
                f"| **mean over sets** | | {mean['accuracy']:.4f} | {mean['macro_f1']:.4f} | {mean['ece']:.4f} | |"
            )
        lines += ["", "![confusion matrices](confusion_matrix.png)", ""]
        lines += _calibration_section(blocks)
    if capabilities is not None:
        lines += render_capabilities(capabilities)
    for name, b in blocks.items():
        lines += [f"## {name}", ""]
        missing = [lab for lab in LABELS if lab not in b["labels_scored"]]
        if missing:
            lines += [
                f"This set has no gold `{'`, `'.join(missing)}` pairs, so macro-F1 averages over "
                f"{', '.join(b['labels_scored'])} only; predicting `{'`/`'.join(missing)}` counts as an error.",
                "",
            ]
        lines += ["| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
        for lab, s in b["per_label"].items():
            lines.append(f"| {lab} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {s['support']} |")
        lines += [
            "",
            "Confusion matrix (rows gold, columns predicted):",
            "",
            "| gold \\ pred | " + " | ".join(LABELS) + " |",
            "|---|" + "---:|" * len(LABELS),
        ]
        for lab, row in zip(LABELS, b["confusion_matrix"]["matrix"]):
            lines.append(f"| {lab} | " + " | ".join(str(v) for v in row) + " |")
        lines.append("")
    return "\n".join(lines)
