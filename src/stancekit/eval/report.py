"""Evaluate a pair scorer on labelled sets and write what a person reads: metrics, plots, report.

Three steps, kept apart so a caller can add to the results before anything is written (the FNC-1 view
does): :func:`predict_sets` (logits per set), :func:`score_sets` (a metrics block per set) and
:func:`write_results` (``metrics.json``, ``predictions.jsonl``, the plots and ``report.md``, each written
atomically). :func:`evaluate_sets` runs all three. Metrics always come as ``{set name: block}``, whatever
the number of sets; ``metrics.json`` holds ``{"sets": {...}}``, plus ``"capabilities"`` when the suite ran.

Besides the scores, each block says how the model fails: ``confident_errors`` (the wrong predictions it was
surest of, full texts) and, when a set mixes several ``source`` values, ``by_source`` (the scores and the
confusion matrix of each source). report.md shows both per set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: runs on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from datasets import Dataset  # noqa: E402

from ..artifacts import save_figure, write_json, write_jsonl, write_text  # noqa: E402
from ..labels import LABELS, Pair  # noqa: E402
from . import calibration  # noqa: E402
from .metrics import compute_metrics  # noqa: E402

# Anything that maps (premise, hypothesis) pairs to logits of shape (n, 3) in LABELS order: the wrapper's
# predict_logits, a baseline's log-probabilities, a document aggregator's log-probabilities.
LogitsFn = Callable[[Sequence[Pair]], np.ndarray]

DEFAULT_MAX_ERRORS = 10  # confident errors kept per set
TABLE_TEXT_CHARS = 200  # premise/claim length in report.md tables; metrics.json keeps the full text


def predict_sets(predict_logits: LogitsFn, sets: Mapping[str, Dataset]) -> dict[str, np.ndarray]:
    """Logits (float64, rows in data set order) of every set, one ``predict_logits`` call per set, in order."""
    return {
        name: np.asarray(predict_logits(list(zip(ds["premise"], ds["hypothesis"]))), dtype=np.float64)
        for name, ds in sets.items()
    }


def score_sets(
    logits: Mapping[str, np.ndarray],
    sets: Mapping[str, Dataset],
    temperature: float = 1.0,
    max_errors: int = DEFAULT_MAX_ERRORS,
) -> dict[str, dict]:
    """A metrics block per set: :func:`compute_metrics` plus ECE/NLL before and after ``temperature``,
    accuracy at 100/90/80/50 % coverage, the ``max_errors`` most confident errors (``confident_errors``, see
    :func:`confident_errors`; left out when ``max_errors`` is 0) and, for a set whose rows come from more
    than one source, ``by_source`` (see :func:`scores_by_source`)."""
    if max_errors < 0:
        raise ValueError(f"max_errors must be 0 or more, not {max_errors}")
    blocks = {}
    for name, dataset in sets.items():
        labels = list(dataset["label"])
        predicted = logits[name].argmax(axis=1).tolist()
        block = compute_metrics(labels, predicted)
        block["name"] = name
        block.update(calibration.calibration_block(logits[name], labels, temperature))
        if max_errors:
            block["confident_errors"] = confident_errors(dataset, logits[name], temperature, max_errors)
        by_source = scores_by_source(dataset, logits[name], temperature)
        if by_source:
            block["by_source"] = by_source
        blocks[name] = block
    return blocks


def confident_errors(
    dataset: Dataset, logits: np.ndarray, temperature: float = 1.0, limit: int = DEFAULT_MAX_ERRORS
) -> list[dict]:
    """The ``limit`` wrong predictions of ``dataset`` with the highest confidence, most confident first.

    Confidence is the predicted label's probability, ``softmax(logits / temperature)``: what a user of the
    calibrated model sees. Ties keep data set order. Each entry: ``id``, ``premise``, ``hypothesis`` (full
    texts), ``gold``, ``prediction`` (label names, as in predictions.jsonl) and ``confidence``.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if limit <= 0 or len(logits) == 0:
        return []
    probs = calibration.probabilities(logits, temperature)
    predicted = probs.argmax(axis=1)
    gold = np.asarray(dataset["label"])
    confidence = probs[np.arange(len(probs)), predicted]
    wrong = np.flatnonzero(predicted != gold)
    # Stable sort on -confidence: equal confidences stay in data set order, so the list is reproducible.
    top = wrong[np.argsort(-confidence[wrong], kind="stable")][:limit]
    rows = dataset.select(top.tolist()) if len(top) else []
    return [
        {
            "id": row["id"],
            "premise": row["premise"],
            "hypothesis": row["hypothesis"],
            "gold": LABELS[int(gold[i])],
            "prediction": LABELS[int(predicted[i])],
            "confidence": float(confidence[i]),
        }
        for i, row in zip(top.tolist(), rows)
    ]


def scores_by_source(dataset: Dataset, logits: np.ndarray, temperature: float = 1.0) -> dict[str, dict]:
    """Per ``source`` value of a mixed set: n, accuracy, macro-F1 (over the labels that source has), the
    labels scored, the confusion matrix (rows gold, columns predicted), ``ece`` at the set's ``temperature``
    and ``temperature_alone``, the temperature fitted on that source's rows alone; sources in name order.

    One temperature serves the whole mixture. Where the sources differ in how over- or under-confident the
    model is on them (sure on SNLI-like pairs, unsure on adversarial ones), it is a compromise between them:
    each source's own temperature and its ECE at the shared one show which sources it leaves miscalibrated.
    Empty for a set with one source, or without a ``source`` column: its block already says it all.
    """
    if "source" not in dataset.column_names or len(dataset) == 0:
        return {}
    sources = [s if s else "(no source)" for s in dataset["source"]]
    names = sorted(set(sources))
    if len(names) < 2:
        return {}
    gold = np.asarray(dataset["label"])
    logits = np.asarray(logits, dtype=np.float64)
    predicted = logits.argmax(axis=1)
    out = {}
    for source in names:
        mask = np.asarray([s == source for s in sources])
        block = compute_metrics(gold[mask].tolist(), predicted[mask].tolist())
        out[source] = {k: block[k] for k in ("n", "accuracy", "macro_f1", "labels_scored", "confusion_matrix")}
        out[source]["ece"] = calibration.ece(calibration.probabilities(logits[mask], temperature), gold[mask])
        out[source]["temperature_alone"] = calibration.fit_temperature(logits[mask], gold[mask])
    return out


def write_results(
    out_dir: str | Path,
    sets: Mapping[str, Dataset],
    logits: Mapping[str, np.ndarray],
    blocks: Mapping[str, dict],
    title: str,
    context: str = "",
    temperature: float = 1.0,
    capabilities: dict | None = None,
    sections: Iterable[str] = (),
    commit: str | None = None,
) -> None:
    """Write ``metrics.json``, ``predictions.jsonl``, the plots and ``report.md`` (``sections`` appended to
    it) into ``out_dir``; each file whole or not at all. ``commit``, when known, is the source commit of the
    code that made the predictions (``stancekit.version.source_commit``), kept in ``metrics.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results: dict = {"sets": dict(blocks)}
    if capabilities is not None:
        results["capabilities"] = capabilities
    if commit is not None:
        results["commit"] = commit
    write_json(out / "metrics.json", results)
    probabilities = {name: calibration.probabilities(logits[name], temperature) for name in sets}
    write_jsonl(out / "predictions.jsonl", _prediction_records(sets, probabilities))
    if blocks:
        curves = {name: (logits[name], list(sets[name]["label"]), temperature) for name in blocks}
        plot_confusion_matrices(blocks, out / "confusion_matrix.png")
        calibration.plot_reliability(curves, out / "reliability.png")
        calibration.plot_coverage(curves, out / "coverage.png")
    report = render_report(blocks, title, context, capabilities)
    write_text(out / "report.md", report + "".join(f"\n{section}\n" for section in sections))


def evaluate_sets(
    predict_logits: LogitsFn,
    sets: Mapping[str, Dataset],
    out_dir: str | Path,
    title: str = "Evaluation",
    context: str = "",
    temperature: float = 1.0,
    capabilities: dict | None = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
    commit: str | None = None,
) -> dict[str, dict]:
    """Predict, score and write every set (see the module doc); return ``{set name: metrics block}``.

    Probabilities are ``softmax(logits / temperature)``. A capability-suite result, when given, is written
    beside the sets and reported. ``max_errors`` caps each set's list of most confident errors; ``commit``
    is recorded as ``write_results`` says.
    """
    logits = predict_sets(predict_logits, sets)
    blocks = score_sets(logits, sets, temperature, max_errors)
    write_results(out_dir, sets, logits, blocks, title, context, temperature, capabilities, commit=commit)
    return blocks


def _prediction_records(sets: Mapping[str, Dataset], probabilities: Mapping[str, np.ndarray]) -> Iterable[dict]:
    for name, dataset in sets.items():
        for row, p in zip(dataset, probabilities[name]):
            yield {
                "set": name,
                "id": row["id"],
                "premise": row["premise"],
                "hypothesis": row["hypothesis"],
                "gold": LABELS[row["label"]],
                "prediction": LABELS[int(p.argmax())],
                "probabilities": {lab: round(float(v), 6) for lab, v in zip(LABELS, p)},
            }


def markdown_confusion_matrix(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> list[str]:
    """A Markdown table of a confusion matrix (rows gold, columns predicted)."""
    lines = ["| gold \\ pred | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    lines += [f"| {lab} | " + " | ".join(str(v) for v in row) + " |" for lab, row in zip(labels, matrix)]
    return lines


def markdown_cell(text: object, limit: int | None = TABLE_TEXT_CHARS) -> str:
    """``text`` as one Markdown table cell: whitespace (newlines included) collapsed to single spaces, cut
    to ``limit`` characters with an ellipsis, backslashes and ``|`` escaped so the row keeps its columns."""
    flat = " ".join(str(text).split())
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    # Backslashes first: a text's own backslash before a "|" would otherwise pair with our escaping one
    # ("\\|" is an escaped backslash, then a column break).
    return flat.replace("\\", "\\\\").replace("|", "\\|")


def render_confident_errors(block: Mapping) -> list[str]:
    """The "Most confident errors" subsection of one set (nothing when the block has no such list)."""
    errors = block.get("confident_errors")
    if errors is None:
        return []
    lines = ["### Most confident errors", ""]
    if not errors:
        return lines + ["No wrong predictions.", ""]
    matrix = np.asarray(block["confusion_matrix"]["matrix"])
    wrong = int(matrix.sum() - np.trace(matrix))
    lines += [
        f"The {len(errors)} most confident of {wrong} wrong predictions (confidence: the predicted label's "
        f"probability at temperature {block.get('temperature', 1.0):.3f}; texts shortened, full in metrics.json).",
        "",
        "| # | confidence | gold | predicted | premise | claim | id |",
        "|---:|---:|---|---|---|---|---|",
    ]
    for rank, e in enumerate(errors, 1):
        lines.append(
            f"| {rank} | {e['confidence']:.4f} | {e['gold']} | {e['prediction']} | {markdown_cell(e['premise'])} "
            f"| {markdown_cell(e['hypothesis'])} | {markdown_cell(e['id'], None)} |"
        )
    return lines + [""]


def render_by_source(block: Mapping) -> list[str]:
    """The "By source" subsection of a mixed set: scores per source and its errors as gold→predicted counts."""
    by_source = block.get("by_source")
    if not by_source:
        return []
    lines = [
        "### By source",
        "",
        "Errors: gold → predicted counts (full confusion matrices in metrics.json). ECE at the set's one "
        "temperature; T alone: the temperature fitted on that source's rows alone (far from the set's where "
        "the shared temperature leaves a source over- or under-confident).",
        "",
        "| source | n | accuracy | macro-F1 | ECE | T alone | errors |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for source, b in by_source.items():
        labels, matrix = b["confusion_matrix"]["labels"], b["confusion_matrix"]["matrix"]
        errors = ", ".join(
            f"{g} → {p} {matrix[i][j]}"
            for i, g in enumerate(labels)
            for j, p in enumerate(labels)
            if i != j and matrix[i][j]
        )
        lines.append(
            f"| {markdown_cell(source, None)} | {b['n']} | {b['accuracy']:.4f} | {b['macro_f1']:.4f} "
            f"| {b['ece']:.4f} | {calibration.temperature_cell(b['temperature_alone'])} "
            f"| {errors or 'none'} |"
        )
    return lines + [""]


def metrics_table(sets: Mapping[str, dict], capabilities: dict | None = None) -> str:
    """A short fixed-width table for the terminal: accuracy and macro-F1 per set, then capability pass rates."""
    width = max([len(n) for n in sets] + [8])
    lines = [f"{'set':<{width}}  {'n':>6}  {'accuracy':>8}  {'macro-F1':>8}"]
    for name, b in sets.items():
        lines.append(f"{name:<{width}}  {b.get('n', ''):>6}  {b['accuracy']:>8.4f}  {b['macro_f1']:>8.4f}")
    if capabilities:
        lines.append("")
        lines += [f"capability {name:<22} pass rate {cap['pass_rate']:.3f}" for name, cap in capabilities.items()]
    return "\n".join(lines)


def _calibration_section(blocks: Mapping[str, dict]) -> list[str]:
    coverages = [f"{int(c * 100)}%" for c in calibration.COVERAGES]
    lines = [
        "## Calibration and selective prediction",
        "",
        f"Temperature scaling (T fitted on the validation split); ECE with {calibration.ECE_BINS} equal-width bins. "
        "Accuracy at coverage c: accuracy on the c most confident share of pairs (the rest abstained).",
        "",
        "| set | T | ECE before | ECE after | NLL before | NLL after | "
        + " | ".join(f"acc @ {c}" for c in coverages)
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
                lines.append(
                    f"- premise: {f['premise']!r} / hypothesis: {f['hypothesis']!r} → expected "
                    f"{f['expected']}, got {f['predicted']} ({f['confidence']:.2f})"
                )
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
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def render_report(blocks: Mapping[str, dict], title: str, context: str = "", capabilities: dict | None = None) -> str:
    """A Markdown report: one summary row per set, calibration and coverage, capabilities, then per set
    the per-label scores, the confusion matrix, the scores by source (mixed sets) and the most confident
    errors."""
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
        lines += ["", "Confusion matrix (rows gold, columns predicted):", ""]
        lines += markdown_confusion_matrix(LABELS, b["confusion_matrix"]["matrix"]) + [""]
        lines += render_by_source(b)
        lines += render_confident_errors(b)
    return "\n".join(lines)
