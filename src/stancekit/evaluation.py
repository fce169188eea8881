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

from .labels import LABELS  # noqa: E402

ProbaFn = Callable[[Sequence[tuple[str, str]]], np.ndarray]


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


def predict_set(predict_proba: ProbaFn, dataset: Dataset) -> np.ndarray:
    pairs = list(zip(dataset["premise"], dataset["hypothesis"]))
    return predict_proba(pairs)


def evaluate_sets(
    predict_proba: ProbaFn,
    sets: Mapping[str, Dataset],
    out_dir: str | Path,
    title: str = "Evaluation",
    context: str = "",
) -> dict:
    """Predict every set, then write metrics.json, report.md, confusion_matrix.png and predictions.jsonl.

    Returns the metrics: with one set, the set's block itself (``accuracy``, ``macro_f1``, ...); with
    several, one block per set name.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    blocks: dict[str, dict] = {}
    predictions: dict[str, np.ndarray] = {}
    for name, dataset in sets.items():
        probs = predict_set(predict_proba, dataset)
        predictions[name] = probs
        blocks[name] = compute_metrics(dataset["label"], probs.argmax(axis=1).tolist())
        blocks[name]["name"] = name
    metrics = next(iter(blocks.values())) if len(blocks) == 1 else blocks
    _write_json(out / "metrics.json", metrics)
    _write_predictions(out / "predictions.jsonl", sets, predictions)
    plot_confusion_matrices(blocks, out / "confusion_matrix.png")
    (out / "report.md").write_text(render_report(blocks, title, context), encoding="utf-8")
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


def plot_confusion_matrices(blocks: Mapping[str, dict], path: Path) -> None:
    """One panel per set; cells show counts, colour shows the share of each gold row."""
    n = len(blocks)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.9 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, (name, block) in zip(axes.flat, blocks.items()):
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
    fig.savefig(path, dpi=110)
    plt.close(fig)


def render_report(blocks: Mapping[str, dict], title: str, context: str = "") -> str:
    """A Markdown report: one summary row per set, then per-label scores and the confusion matrix."""
    lines = [f"# {title}", ""]
    if context:
        lines += [context, ""]
    lines += ["| set | n | accuracy | macro-F1 | scored on |", "|---|---:|---:|---:|---|"]
    for name, b in blocks.items():
        lines.append(
            f"| {name} | {b['n']} | {b['accuracy']:.4f} | {b['macro_f1']:.4f} | {', '.join(b['labels_scored'])} |"
        )
    if len(blocks) > 1:
        mean_f1 = float(np.mean([b["macro_f1"] for b in blocks.values()]))
        mean_acc = float(np.mean([b["accuracy"] for b in blocks.values()]))
        lines.append(f"| **mean over sets** | | {mean_acc:.4f} | {mean_f1:.4f} | |")
    lines += ["", "![confusion matrices](confusion_matrix.png)", ""]
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
