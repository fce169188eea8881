"""Calibration: temperature scaling (Guo et al., 2017), ECE, NLL, reliability diagrams, selective prediction.

A fine-tuned classifier is usually over-confident. Dividing its logits by one scalar ``T`` fitted on the
validation split fixes most of that without changing any argmax (so accuracy and F1 are untouched). The
temperature is stored in the model folder's ``stancekit.json``; plain ``transformers`` ignores it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.optimize import minimize_scalar  # noqa: E402
from scipy.special import log_softmax, softmax  # noqa: E402

from ..artifacts import save_figure  # noqa: E402

ECE_BINS = 15
COVERAGES = (1.0, 0.9, 0.8, 0.5)


def probabilities(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    return softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1)


def nll(logits: np.ndarray, labels: Sequence[int], temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the gold labels."""
    logp = log_softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1)
    return float(-logp[np.arange(len(labels)), np.asarray(labels)].mean())


# The temperatures fit_temperature searches between (e^-3 to e^3).
TEMPERATURE_BOUNDS = (float(np.exp(-3.0)), float(np.exp(3.0)))


def fit_temperature(logits: np.ndarray, labels: Sequence[int]) -> float:
    """The temperature minimising validation NLL (searched over log T within TEMPERATURE_BOUNDS, so T > 0)."""
    logits = np.asarray(logits, dtype=np.float64)
    if len(logits) == 0:
        return 1.0
    bounds = tuple(np.log(TEMPERATURE_BOUNDS))
    result = minimize_scalar(lambda log_t: nll(logits, labels, float(np.exp(log_t))), bounds=bounds, method="bounded")
    return float(np.exp(result.x))


def temperature_cell(temperature: float) -> str:
    """A fitted temperature for a table; one at the search's bound (a source all right or all wrong, where
    sharper or flatter always fits better) is shown as the bound it reached, not as a value."""
    low, high = TEMPERATURE_BOUNDS
    if temperature >= high * 0.999:
        return f"≥ {high:.1f}"
    if temperature <= low * 1.001:
        return f"≤ {low:.2f}"
    return f"{temperature:.2f}"


def fit_on_dataset(predict_logits, dataset) -> tuple[float, np.ndarray, list[int]]:
    """Fit the temperature of a model (its ``predict_logits(pairs)``) on a labelled data set.

    Logits are computed here, in data set order, so they line up with the labels by construction (the
    Trainer's own predictions may come back length-sorted). Returns (temperature, logits, labels).
    """
    logits = np.asarray(predict_logits(list(zip(dataset["premise"], dataset["hypothesis"]))), dtype=np.float64)
    labels = list(dataset["label"])
    return fit_temperature(logits, labels), logits, labels


def reliability_bins(probs: np.ndarray, labels: Sequence[int], bins: int = ECE_BINS) -> list[dict]:
    """Equal-width confidence bins: count, mean confidence and accuracy of each."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        mask = (confidence > lo) & (confidence <= hi)
        n = int(mask.sum())
        out.append(
            {
                "lo": float(lo),
                "hi": float(hi),
                "n": n,
                "confidence": float(confidence[mask].mean()) if n else 0.0,
                "accuracy": float(correct[mask].mean()) if n else 0.0,
            }
        )
    return out


def ece(probs: np.ndarray, labels: Sequence[int], bins: int = ECE_BINS) -> float:
    """Expected calibration error: the count-weighted gap between confidence and accuracy over bins."""
    total = len(labels)
    if total == 0:
        return 0.0
    return float(
        sum(b["n"] * abs(b["accuracy"] - b["confidence"]) for b in reliability_bins(probs, labels, bins)) / total
    )


def coverage_curve(probs: np.ndarray, labels: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy when keeping only the most confident fraction of predictions, for every fraction."""
    order = np.argsort(-probs.max(axis=1), kind="stable")
    correct = (probs.argmax(axis=1) == np.asarray(labels))[order]
    kept = np.arange(1, len(order) + 1)
    return kept / len(order), np.cumsum(correct) / kept


def accuracy_at_coverage(probs: np.ndarray, labels: Sequence[int], coverages=COVERAGES) -> dict[str, float]:
    """Accuracy of the top-confidence ``c`` share of predictions, for each coverage ``c``."""
    if len(labels) == 0:
        return {}
    cov, acc = coverage_curve(probs, labels)
    out = {}
    for c in coverages:
        idx = max(int(np.ceil(c * len(cov))) - 1, 0)
        out[f"{int(round(c * 100))}%"] = float(acc[idx])
    return out


def calibration_block(logits: np.ndarray, labels: Sequence[int], temperature: float) -> dict:
    """ECE and NLL before (T=1) and after temperature scaling, plus accuracy at fixed coverages."""
    raw, scaled = probabilities(logits), probabilities(logits, temperature)
    return {
        "temperature": float(temperature),
        "ece_before": ece(raw, labels),
        "ece": ece(scaled, labels),
        "nll_before": nll(logits, labels),
        "nll": nll(logits, labels, temperature),
        "accuracy_at_coverage": accuracy_at_coverage(scaled, labels),
    }


def panel_grid(n: int, width: float = 4.2, height: float = 3.9, max_cols: int = 3):
    """A figure with ``n`` panels, at most ``max_cols`` per row (spare cells hidden); returns (fig, axes)."""
    cols = max(min(n, max_cols), 1)
    rows = max((n + cols - 1) // cols, 1)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, list(axes.flat[:n])


def plot_reliability(sets: dict[str, tuple[np.ndarray, Sequence[int], float]], path: Path) -> None:
    """Reliability diagrams (one panel per set): accuracy per confidence bin, before and after scaling."""
    fig, axes = panel_grid(len(sets), height=4.0)
    for ax, (name, (logits, labels, temperature)) in zip(axes, sets.items()):
        for t, style, tag in ((1.0, "o--", "raw"), (temperature, "s-", f"T={temperature:.2f}")):
            probs = probabilities(logits, t)
            pts = [(b["confidence"], b["accuracy"]) for b in reliability_bins(probs, labels) if b["n"]]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, style, ms=3, label=f"{tag} (ECE {ece(probs, labels):.3f})")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def plot_coverage(sets: dict[str, tuple[np.ndarray, Sequence[int], float]], path: Path) -> None:
    """Accuracy against coverage when abstaining on the least confident predictions (one line per set)."""
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    for name, (logits, labels, temperature) in sets.items():
        if len(labels):
            cov, acc = coverage_curve(probabilities(logits, temperature), labels)
            ax.plot(cov, acc, label=name)
    ax.set_xlim(1, 0)
    ax.set_xlabel("coverage (share of pairs answered)")
    ax.set_ylabel("accuracy on answered pairs")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)
