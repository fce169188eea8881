"""Build train / validation / test sets from a data config: read sources, cap, mix, hold back, summarise."""

from __future__ import annotations

import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from datasets import ClassLabel, Dataset, Features, Value

from ..config import DataConfig, SourceConfig
from ..labels import LABELS
from .adapters import Example, load_source, source_name
from .augment import random_premise_neutrals, swap_contradictions

log = logging.getLogger(__name__)

FEATURES = Features(
    {
        "id": Value("string"),
        "premise": Value("string"),
        "hypothesis": Value("string"),
        "label": ClassLabel(names=list(LABELS)),
        "source": Value("string"),
    }
)
SPLITS = ("train", "validation", "test")


@dataclass
class Splits:
    """The data of one run. ``test`` keeps one data set per test source, because each is reported apart."""

    train: Dataset | None = None
    validation: Dataset | None = None
    test: dict[str, Dataset] = field(default_factory=dict)
    # split -> source -> {"n": int, "skipped": int, "bad": int, "labels": {label: count}}
    summary: dict[str, dict[str, dict]] = field(default_factory=dict)
    # Bad rows stepped over with on_error=skip: file, line, field, problem, raw text (for skipped_rows.jsonl).
    skipped_rows: list[dict] = field(default_factory=list)


def shorthand_sources(data: DataConfig, split: str) -> list[SourceConfig]:
    """``train_file``/``validation_file``/``test_file`` as sources. Their paths are relative to the cwd."""
    path = getattr(data, f"{split}_file")
    if not path:
        return []
    return [
        SourceConfig(
            adapter=data.format,
            name=data.name,
            files=[str(Path(path).expanduser().resolve())],
            premise_column=data.premise_column,
            hypothesis_column=data.hypothesis_column,
            label_column=data.label_column,
            id_column=data.id_column,
            label_map=dict(data.label_map),
        )
    ]


def _to_dataset(pairs: list[Example]) -> Dataset:
    return Dataset.from_list(pairs, features=FEATURES)


def _cap(pairs: list[Example], limit: int | None, seed: int) -> list[Example]:
    if limit is None or len(pairs) <= limit:
        return pairs
    # A seeded shuffle before cutting, so a cap takes a fair sample rather than the file's first rows.
    pairs = list(pairs)
    random.Random(seed).shuffle(pairs)
    return pairs[:limit]


def _stats(pairs: list[Example], skipped: int = 0, bad: int = 0) -> dict:
    counts = Counter(LABELS[p["label"]] for p in pairs)
    return {
        "n": len(pairs),
        "skipped": skipped,
        "bad": bad,
        "labels": {name: counts.get(name, 0) for name in LABELS},
    }


def _read(
    sources: list[SourceConfig],
    root: Path,
    seed: int,
    summary: dict,
    on_error: str = "raise",
    bad_rows: list[dict] | None = None,
) -> dict[str, list[Example]]:
    out: dict[str, list[Example]] = {}
    for src in sources:
        name = source_name(src)
        read = load_source(src, root, on_error)
        pairs = _cap(read.pairs, src.max_examples, seed)
        if not pairs:
            raise ValueError(f"data source {name!r} produced no pairs (files: {list(src.files)})")
        out.setdefault(name, []).extend(pairs)
        summary[name] = _stats(out[name], read.label_skipped, len(read.bad_rows))
        if bad_rows is not None:
            bad_rows.extend(read.bad_rows)
    return out


def _hold_back(pairs: list[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Stratified by label (and source), so validation mirrors the training mix."""
    from sklearn.model_selection import train_test_split

    strata = [f"{p['source']}|{p['label']}" for p in pairs]
    counts = Counter(strata)
    stratify = strata if min(counts.values()) >= 2 else None
    train, val = train_test_split(pairs, test_size=fraction, random_state=seed, stratify=stratify)
    return list(train), list(val)


def build_splits(data: DataConfig, data_root: str | Path, splits: tuple[str, ...] = SPLITS) -> Splits:
    """Read every source the config names for ``splits`` and return the data sets with a size summary.

    Training sources are concatenated into one mixture (each optionally capped by ``max_examples``).
    With no validation source, ``validation_fraction`` of the mixture is held back for validation.
    Bad rows raise a :class:`DataError`, or with ``data.on_error=skip`` land in ``Splits.skipped_rows``.
    """
    root = Path(data_root).expanduser()
    result = Splits()
    for split in splits:
        sources = shorthand_sources(data, split) + list(getattr(data, split))
        result.summary[split] = {}
        per_source = _read(sources, root, data.seed, result.summary[split], data.on_error, result.skipped_rows)
        if split == "test":
            result.test = {name: _to_dataset(pairs) for name, pairs in per_source.items()}
            continue
        merged = [p for pairs in per_source.values() for p in pairs]
        if split == "train" and merged:
            random.Random(data.seed).shuffle(merged)
        setattr(result, split, _to_dataset(merged) if merged else None)

    if "validation" in splits and result.validation is None and result.train is not None:
        if not 0 < data.validation_fraction < 1:
            raise ValueError("no validation source and data.validation_fraction is not in (0, 1)")
        train, val = _hold_back(list(result.train), data.validation_fraction, data.seed)
        result.train, result.validation = _to_dataset(train), _to_dataset(val)
        result.summary["validation"] = {"held back from train": _stats(val)}
        result.summary["train"]["(after hold-back)"] = _stats(train)
    if result.train is not None and (data.augment.swap_contradictions > 0 or data.augment.random_premise_neutral > 0):
        result.train = _augment(list(result.train), data, result.summary["train"])
    return result


def _augment(train: list[Example], data: DataConfig, summary: dict) -> Dataset:
    """Add the configured augmentations to the training pairs and record their size in the summary."""
    extra: list[Example] = []
    if data.augment.swap_contradictions > 0:
        swapped = swap_contradictions(train, data.augment.swap_contradictions, data.seed)
        summary["+ swapped contradictions"] = _stats(swapped)
        extra += swapped
    if data.augment.random_premise_neutral > 0:
        neutrals = random_premise_neutrals(train, data.augment.random_premise_neutral, data.seed)
        summary["+ random-premise neutrals"] = _stats(neutrals)
        extra += neutrals
    merged = train + extra
    random.Random(data.seed + 1).shuffle(merged)
    summary["(training total)"] = _stats(merged)
    return _to_dataset(merged)


def format_summary(summary: dict[str, dict[str, dict]]) -> str:
    """A Markdown table: one row per split and source with its size and label balance.

    ``skipped`` counts rows dropped on purpose (``skip_labels``), ``bad rows`` those stepped over with
    ``on_error=skip`` (listed in ``skipped_rows.jsonl``).
    """
    lines = [
        "| split | source | n | " + " | ".join(LABELS) + " | skipped | bad rows |",
        "|---|---|---:|" + "---:|" * len(LABELS) + "---:|---:|",
    ]
    for split, sources in summary.items():
        for name, stats in sources.items():
            n = stats["n"] or 1
            cells = [f"{stats['labels'][lab]} ({100 * stats['labels'][lab] / n:.0f}%)" for lab in LABELS]
            lines.append(
                f"| {split} | {name} | {stats['n']} | "
                + " | ".join(cells)
                + f" | {stats['skipped']} | {stats.get('bad', 0)} |"
            )
    return "\n".join(lines)
