"""Tuning document-level aggregation (window sizes, aggregation, threshold, top_k) on a labelled FNC-style
validation split, with the FNC-1 view of ``scripts/evaluate.py mode=document``.

Every unit of every document is scored once, and the grid is then evaluated on the cached unit probabilities
with :func:`~stancekit.document.aggregate.aggregate`, so a grid of a hundred options costs the model calls of
one evaluation. Window sizes change the units, so they are the outer loop, but still without rescoring: the
units of the union of all window sets are scored, and a window set's units are a subset of them (the same
``(first, last)`` sentence spans; the claim-overlap filter judges each unit on its own), picked out by span.

The four labels come exactly as in mode=document (the functions of :mod:`stancekit.document.fnc`): with
``unrelated_rule=lexical``, pairs whose headline-body TF-IDF cosine is below the relatedness threshold are
``unrelated`` and, with ``gate``, never scored (``neutral`` in our labels, as there). Options are ranked by
the FNC-1 weighted score (% of the maximum), ties broken by the macro-F1 over the four classes (F1m), then
by grid order. Use a validation split only: an option picked on test reports an optimistic test score.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from ..config import DocumentConfig, FncConfig
from ..labels import LABEL2ID
from .aggregate import aggregate, as_scorer, check_options, document_units, resolve_options, unit_probabilities
from .fnc import FNC_LABELS, UNRELATED_RULES, fnc_metrics, lexical_relatedness, render_fnc_section, to_fnc_labels


def _windows(sizes: Sequence[int]) -> str:
    return "[" + ",".join(map(str, sizes)) + "]"


def _key(sizes: Sequence[int]) -> tuple[int, ...]:
    # document_units reads a window set as a set of sizes, so [2, 1] and [1, 2] are one set of units.
    return tuple(sorted({int(w) for w in sizes}))


@dataclass(frozen=True)
class Option:
    """One grid point. ``threshold``/``top_k`` are ``None`` where the rule does not read them (``mean``
    ignores both, ``max_evidence`` ``top_k``), so no option is in the grid twice under two values."""

    window_sizes: tuple[int, ...]
    aggregation: str
    threshold: float | None = None
    top_k: int | None = None

    def config(self, base: DocumentConfig | None = None) -> DocumentConfig:
        """``base`` with this option's values (the base's where this option leaves one unset)."""
        base = base or DocumentConfig()
        return replace(
            base,
            window_sizes=list(self.window_sizes),
            aggregation=self.aggregation,
            threshold=base.threshold if self.threshold is None else self.threshold,
            top_k=base.top_k if self.top_k is None else self.top_k,
        )

    def overrides(self) -> list[str]:
        """The ``document.*=`` overrides that select this option in scripts/evaluate.py or predict.py."""
        out = [f"document.aggregation={self.aggregation}"]
        if self.threshold is not None:
            out.append(f"document.threshold={self.threshold:g}")
        if self.top_k is not None:
            out.append(f"document.top_k={self.top_k}")
        return [*out, f"document.window_sizes=[{','.join(map(str, self.window_sizes))}]"]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields (window_sizes as a list)."""
        return {**asdict(self), "window_sizes": list(self.window_sizes)}


def option_grid(
    aggregations: Sequence[str],
    thresholds: Sequence[float],
    top_ks: Sequence[int],
    window_sizes: Sequence[Sequence[int]],
) -> list[Option]:
    """Every distinct option, window sets outermost, then aggregation, threshold, top_k, each in the order given
    (which breaks the last ties). Values are checked as ``document.*`` options are."""
    for name, values in (("aggregations", aggregations), ("thresholds", thresholds), ("top_ks", top_ks)):
        if not values:
            raise ValueError(f"the grid's {name} list is empty")
    if not window_sizes:
        raise ValueError("the grid's window_sizes list (of window sets) is empty")
    grid: list[Option] = []
    for sizes in window_sizes:
        windows = _key(sizes)
        for aggregation in aggregations:
            ts = [None] if aggregation == "mean" else [float(t) for t in thresholds]
            ks = [int(k) for k in top_ks] if aggregation == "top_k_mean" else [None]
            grid += [Option(windows, aggregation, t, k) for t in ts for k in ks]
    grid = list(dict.fromkeys(grid))
    for option in grid:
        check_options(option.config())
    return grid


@dataclass
class Tuning:
    """What :func:`tune_documents` found. ``rows``: one per option, best first, each the option's fields, its
    ``rank``, ``fnc_percent``/``fnc_raw``/``fnc_max``, ``macro_f1`` (F1m), ``f1`` per FNC label,
    ``related_only_macro_f1`` and ``predicted`` (FNC label counts). ``best_fnc``: the best option's full FNC
    block (as evaluate's metrics.json holds it)."""

    rows: list[dict[str, Any]]
    best: Option
    best_fnc: dict[str, Any]
    best_per_aggregation: dict[str, dict[str, Any]]
    n_pairs: int
    n_scored: int
    # Scorer calls and the distinct (unit, claim) pairs they scored, for the whole grid.
    scorer_calls: int
    scored_pairs: int
    # Units per window set, summed over the scored documents.
    units: dict[str, int] = field(default_factory=dict)
    rule: str = "lexical"
    relatedness_threshold: float = 0.07

    @property
    def n_gated(self) -> int:
        return self.n_pairs - self.n_scored


def cached_unit_probabilities(
    scorer: Any,
    items: Sequence[tuple[str, str]],
    base: DocumentConfig,
    window_sets: Sequence[Sequence[int]],
    *,
    progress: bool = False,
) -> dict[tuple[int, ...], list[np.ndarray]]:
    """``{window set: [unit probabilities of each item]}`` from one scoring of the union's units."""
    union = sorted({int(w) for sizes in window_sets for w in sizes})
    options = resolve_options(base, window_sizes=union)
    scored = list(unit_probabilities(scorer, items, options, progress=progress))
    cache: dict[tuple[int, ...], list[np.ndarray]] = {}
    for sizes in window_sets:
        windows = _key(sizes)
        if list(windows) == union:
            cache[windows] = [probs for _, probs in scored]
            continue
        cache[windows] = []
        for (_, document), (units, probs) in zip(items, scored):
            spans = {
                (f, last) for _, f, last in document_units(document, windows, skip_boilerplate=options.skip_boilerplate)
            }
            cache[windows].append(probs[[(f, last) in spans for _, f, last in units]])
    return cache


def tune_documents(
    scorer: Any,
    items: Sequence[tuple[str, str]],
    gold: Sequence[str],
    grid: Sequence[Option],
    base: Any = None,
    *,
    rule: str = "lexical",
    relatedness_threshold: float = 0.07,
    relatedness: Sequence[float] | None = None,
    gate: bool = True,
    progress: bool = False,
) -> Tuning:
    """Evaluate every option of ``grid`` on ``(claim, document)`` items with FNC-1 gold labels ``gold``.

    ``scorer``: ``predict_proba(pairs)`` as for predict_documents; called once per ``base.chunk_size`` scored
    items whatever the grid. ``base``: the DocumentConfig (or Hydra node) for the options not tuned (the
    boilerplate and claim-overlap filters, chunk_size). ``relatedness``: the headline-body cosines for the
    lexical rule (computed on ``items`` when ``None``). Give a validation split, never the test split.
    """
    items = [(c, d) for c, d in items]
    if len(gold) != len(items):
        raise ValueError(f"{len(items)} items but {len(gold)} gold labels")
    if rule not in UNRELATED_RULES:
        raise ValueError(f"fnc.unrelated_rule must be one of {list(UNRELATED_RULES)}, not {rule!r}")
    if not grid:
        raise ValueError("the grid is empty")
    base = resolve_options(base)
    if rule == "lexical" and relatedness is None:
        relatedness = lexical_relatedness([c for c, _ in items], [d for _, d in items])
    # As DocumentLogProbs: a pair the lexical rule calls unrelated keeps that label whatever the model says.
    keep = [i for i in range(len(items)) if not (rule == "lexical" and gate) or relatedness[i] >= relatedness_threshold]
    score, calls = as_scorer(scorer), Counter()

    def counted(pairs):  # the calls are reported: the grid must cost one scoring, not one per option
        calls["calls"] += 1
        calls["pairs"] += len(pairs)
        return score(pairs)

    window_sets = list(dict.fromkeys(_key(option.window_sizes) for option in grid))
    kept = [items[i] for i in keep]
    cache = cached_unit_probabilities(counted, kept, base, window_sets, progress=progress) if kept else {}
    rows, blocks = [], []
    for option in grid:
        config = option.config(base)
        predicted = [LABEL2ID["neutral"]] * len(items)
        for i, probs in zip(keep, cache.get(_key(option.window_sizes), [])):
            predicted[i] = int(np.argmax(aggregate(probs, config)))
        fnc = to_fnc_labels(predicted, relatedness, rule, relatedness_threshold)
        block = fnc_metrics(gold, fnc, predicted)
        blocks.append(block)
        rows.append(
            {
                **option.to_dict(),
                "fnc_percent": block["score"]["percent"],
                "fnc_raw": block["score"]["raw"],
                "fnc_max": block["score"]["max"],
                "macro_f1": block["macro_f1"],
                "f1": {lab: block["per_class"][lab]["f1"] for lab in FNC_LABELS},
                "related_only_macro_f1": block.get("related_only", {}).get("macro_f1"),
                "predicted": {lab: fnc.count(lab) for lab in FNC_LABELS},
            }
        )
    # raw is a sum of quarters (exact in floating point) over a fixed maximum, so it ranks as the percentage
    # does; F1m is rounded so that float noise never decides a tie.
    order = sorted(range(len(rows)), key=lambda i: (-rows[i]["fnc_raw"], -round(rows[i]["macro_f1"], 12), i))
    ranked = [{"rank": r + 1, **rows[i]} for r, i in enumerate(order)]
    per_aggregation: dict[str, dict] = {}
    for row in ranked:
        per_aggregation.setdefault(row["aggregation"], row)
    return Tuning(
        rows=ranked,
        best=grid[order[0]],
        best_fnc=blocks[order[0]],
        best_per_aggregation=per_aggregation,
        n_pairs=len(items),
        n_scored=len(keep),
        scorer_calls=calls["calls"],
        scored_pairs=calls["pairs"],
        units={_windows(w): int(sum(len(p) for p in cache.get(w, []))) for w in window_sets},
        rule=rule,
        relatedness_threshold=float(relatedness_threshold),
    )


# ------------------------------------------------------------------------------------------- output
def evaluate_overrides(option: Option, base: Any = None, fnc: Any = None) -> list[str]:
    """The overrides that make scripts/evaluate.py mode=document predict as ``option`` did in the tuning: the
    option's, plus every other ``document.*`` and ``fnc.*`` value of the tuning run that is not the default."""
    out = option.overrides()
    set_here = {o.split("=", 1)[0].removeprefix("document.") for o in out}
    base, defaults = resolve_options(base), DocumentConfig()
    for f in fields(DocumentConfig):
        if f.name not in set_here and getattr(base, f.name) != getattr(defaults, f.name):
            out.append(f"document.{f.name}={_value(getattr(base, f.name))}")
    values = {} if fnc is None else fnc if isinstance(fnc, Mapping) else asdict(fnc)
    for f in fields(FncConfig):
        if f.name in values and values[f.name] != getattr(FncConfig(), f.name):
            out.append(f"fnc.{f.name}={_value(values[f.name])}")
    return out


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return _windows(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _cell(value: Any) -> str:
    return "–" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _row(row: Mapping[str, Any]) -> str:
    cells = [row["rank"], _windows(row["window_sizes"]), f"`{row['aggregation']}`", _cell(row["threshold"])]
    cells += [_cell(row["top_k"]), f"{row['fnc_percent']:.2f}", f"{row['macro_f1']:.4f}"]
    cells += [f"{row['f1'][lab]:.4f}" for lab in FNC_LABELS]
    return "| " + " | ".join(map(str, cells)) + " |"


HEADER = [
    "| rank | windows | aggregation | threshold | top_k | FNC % | F1m | "
    + " | ".join(f"F1 {lab}" for lab in FNC_LABELS)
    + " |",
    "|---:|---|---|---:|---:|---:|---:|" + "---:|" * len(FNC_LABELS),
]


def render_tuning(tuning: Tuning, *, title: str, context: str, command: Sequence[str]) -> str:
    """tuning.md: the best option and how to use it, the best per aggregation, every option, the FNC view."""
    shell = " ".join(shlex.quote(part) for part in command)
    lines = [
        f"# {title}",
        "",
        context,
        "",
        f"{tuning.n_pairs} pairs: {tuning.n_scored} scored, {tuning.n_gated} below the relatedness gate not sent "
        "to the model; "
        f"{tuning.scorer_calls} scorer call(s) on {tuning.scored_pairs} distinct (unit, claim) pairs for the whole "
        "grid. Units per window set (scored documents): "
        + ", ".join(f"{w}: {n}" for w, n in tuning.units.items())
        + ". Ranked by FNC % (the official weighted score as % of its maximum), ties by F1m (macro-F1 over the "
        "four classes), then by grid order.",
        "",
        "## Best option",
        "",
        *HEADER,
        _row(tuning.rows[0]),
        "",
        "To evaluate with it (on test, once):",
        "",
        "```bash",
        shell,
        "```",
        "",
        "## Best per aggregation",
        "",
        *HEADER,
        *(_row(row) for row in tuning.best_per_aggregation.values()),
        "",
        f"## Every option ({len(tuning.rows)})",
        "",
        *HEADER,
        *(_row(row) for row in tuning.rows),
        "",
        render_fnc_section({"best option": tuning.best_fnc}, tuning.rule, tuning.relatedness_threshold),
    ]
    return "\n".join(lines) + "\n"


def tuning_table(tuning: Tuning, n: int = 10) -> str:
    """The ``n`` best options as a short fixed-width table for the terminal."""
    lines = [f"{'rank':>4}  {'windows':<9}  {'aggregation':<12}  {'thr':>5}  {'k':>2}  {'FNC %':>7}  {'F1m':>6}"]
    for row in tuning.rows[:n]:
        lines.append(
            f"{row['rank']:>4}  {_windows(row['window_sizes']):<9}  {row['aggregation']:<12}  "
            f"{_cell(row['threshold']):>5}  {_cell(row['top_k']):>2}  "
            f"{row['fnc_percent']:>7.2f}  {row['macro_f1']:>6.4f}"
        )
    return "\n".join(lines)


def tuning_record(tuning: Tuning) -> dict[str, Any]:
    """tuning.json's numbers (the caller adds what the run read and the command to use the result)."""
    return {
        "relatedness_threshold": tuning.relatedness_threshold,
        "n_pairs": tuning.n_pairs,
        "n_scored": tuning.n_scored,
        "n_gated": tuning.n_gated,
        "scorer_calls": tuning.scorer_calls,
        "scored_pairs": tuning.scored_pairs,
        "units": tuning.units,
        "ranking": "fnc_percent, then macro_f1 (F1m over the four classes), then grid order",
        "best": tuning.rows[0],
        "best_fnc": tuning.best_fnc,
        "best_per_aggregation": tuning.best_per_aggregation,
        "rows": tuning.rows,
    }
