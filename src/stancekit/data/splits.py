"""Build train / validation / test sets from a data config: read sources, cap, mix, hold back, summarise."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasets import ClassLabel, Dataset, Features, Value

from ..config import DataConfig, SourceConfig
from ..labels import LABELS
from .adapters import Example, source_name
from .augment import blank_premises, random_premise_neutrals, swap_contradictions
from .capability_augment import capability_pairs
from .leakage import TestIndex, drop_duplicates, drop_leaks, pair_key
from .minimal_pairs import minimal_pairs
from .sources import load_source

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
HOLD_BACK_MODES = ("auto", "always")


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


def _weigh(pairs: list[Example], weight: float, seed: int) -> list[Example]:
    """``round(weight * n)`` pairs: every pair ``int(weight)`` times, plus a seeded sample for the rest."""
    if weight == 1.0 or not pairs:
        return pairs
    if weight <= 0:
        raise ValueError(f"a source weight must be positive, not {weight}")
    whole, target = int(weight), round(weight * len(pairs))
    extra = random.Random(seed).sample(pairs, target - whole * len(pairs))
    return pairs * whole + extra


def _stats(pairs: list[Example], **counts: Any) -> dict:
    by_label = Counter(LABELS[p["label"]] for p in pairs)
    stats = {"n": len(pairs), "labels": {name: by_label.get(name, 0) for name in LABELS}}
    stats.update({key: counts.get(key, 0) for key in ("skipped", "bad", "leaked", "duplicates")})
    stats["weight"] = counts.get("weight")
    return stats


@dataclass
class _Source:
    """One source's pairs while a split is built, with what was dropped from them and why."""

    config: SourceConfig
    pairs: list[Example]
    skipped: int = 0
    bad: int = 0
    leaked: int = 0
    duplicates: int = 0

    def stats(self, pairs: list[Example] | None = None, weight: float | None = None) -> dict:
        counts = {"skipped": self.skipped, "bad": self.bad, "leaked": self.leaked, "duplicates": self.duplicates}
        return _stats(self.pairs if pairs is None else pairs, weight=weight, **counts)


def _read(sources: list[SourceConfig], root: Path, data: DataConfig, bad_rows: list[dict]) -> dict[str, _Source]:
    """Read every source of one split; sources that share a name are one source."""
    out: dict[str, _Source] = {}
    for src in sources:
        name = source_name(src)
        read = load_source(src, root, data.on_error)
        if not read.pairs:
            raise ValueError(f"data source {name!r} produced no pairs (files: {list(src.files)})")
        if name in out:
            out[name].pairs.extend(read.pairs)
            out[name].skipped += read.label_skipped
            out[name].bad += len(read.bad_rows)
        else:
            out[name] = _Source(src, list(read.pairs), read.label_skipped, len(read.bad_rows))
        bad_rows.extend(read.bad_rows)
    return out


def _guard(sources: dict[str, _Source], index: TestIndex, seen: set | None, data: DataConfig, split: str) -> None:
    """Drop leaks into the test sets, then repeats (of ``seen``, which grows), then apply each source's cap."""
    for name, source in sources.items():
        source.pairs, source.leaked = drop_leaks(source.pairs, index, data.on_leak, split)
        if seen is not None:
            source.pairs, source.duplicates = drop_duplicates(source.pairs, seen)
        source.pairs = _cap(source.pairs, source.config.max_examples, data.seed)
        if seen is not None:  # only the pairs kept after the cap stand in the way of later copies
            seen.update(pair_key(pair) for pair in source.pairs)
        if not source.pairs:
            raise ValueError(f"{split} source {name!r}: no pairs left after the leakage guard and de-duplication")


def _test_index(data: DataConfig, root: Path, tests: dict[str, _Source]) -> TestIndex:
    index = TestIndex()
    for name, source in tests.items():
        index.add(name, source.pairs, source.config.premise_sensitive)
    for src in data.held_out:
        index.add(source_name(src), load_source(src, root, data.on_error).pairs, src.premise_sensitive)
    return index


def _hold_back(pairs: list[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Stratified by label (and source), so validation mirrors the training mix."""
    from sklearn.model_selection import train_test_split

    strata = [f"{p['source']}|{p['label']}" for p in pairs]
    counts = Counter(strata)
    stratify = strata if min(counts.values()) >= 2 else None
    train, val = train_test_split(pairs, test_size=fraction, random_state=seed, stratify=stratify)
    return list(train), list(val)


def _by_source(pairs: list[Example]) -> dict[str, list[Example]]:
    out: dict[str, list[Example]] = {}
    for pair in pairs:
        out.setdefault(pair["source"], []).append(pair)
    return out


def build_splits(data: DataConfig, data_root: str | Path, splits: tuple[str, ...] = SPLITS) -> Splits:
    """Read every source the config names for ``splits`` and return the data sets with a size summary.

    Whenever training or validation data is built, the test sources (and ``data.held_out``) are read too,
    and the leakage guard drops every training and validation pair that equals a test pair (see
    :mod:`stancekit.data.leakage`); repeats inside the training data, and of validation pairs, go as well.
    Training sources are then capped (``max_examples``) and concatenated into one shuffled mixture; with no
    validation source (or ``data.hold_back=always``), ``validation_fraction`` of it is held back, stratified
    by source and label; finally each training source is sampled by its ``weight``.
    Bad rows raise a :class:`DataError`, or with ``data.on_error=skip`` land in ``Splits.skipped_rows``.
    """
    if data.hold_back not in HOLD_BACK_MODES:
        raise ValueError(f"data.hold_back must be one of {list(HOLD_BACK_MODES)}, not {data.hold_back!r}")
    root = Path(data_root).expanduser()
    result = Splits()
    guarded = "train" in splits or "validation" in splits
    read = {}
    for split in ("test", "validation", "train"):
        if split in splits or (split == "test" and guarded):
            sources = shorthand_sources(data, split) + list(getattr(data, split))
            read[split] = _read(sources, root, data, result.skipped_rows)
    # The guard knows every test pair, capped or not: the training data must not depend on how much of a
    # test set one evaluation scores.
    index = _test_index(data, root, read["test"]) if guarded else TestIndex()
    for source in read.get("test", {}).values():
        source.pairs = _cap(source.pairs, source.config.max_examples, data.seed)
    if "test" in splits:
        result.test = {name: _to_dataset(source.pairs) for name, source in read["test"].items()}
        result.summary["test"] = {name: source.stats() for name, source in read["test"].items()}
    seen: set | None = set() if data.dedupe else None
    for split in ("validation", "train"):  # validation first: a training copy of a validation pair goes
        if split in read:
            _guard(read[split], index, seen, data, split)

    validation = [p for source in read.get("validation", {}).values() for p in source.pairs]
    if "validation" in splits:
        result.summary["validation"] = {name: source.stats() for name, source in read["validation"].items()}
    if read.get("train"):
        train = [p for source in read["train"].values() for p in source.pairs]
        random.Random(data.seed).shuffle(train)
        train, held = _split_off_validation(train, read["train"], data, bool(validation), "validation" in splits)
        validation += held
        held_by_source = _by_source(held)
        for name in read["train"]:
            if name in held_by_source:
                result.summary["validation"][f"{name} (held back)"] = _stats(held_by_source[name])
        train = _apply_weights(train, read["train"], data, result.summary.setdefault("train", {}))
        result.train = _to_dataset(train)
        if any(getattr(data.augment, key) > 0 for key, _, _ in AUGMENTATIONS):
            result.train = _augment(train, data, result.summary["train"])
    if "validation" in splits and validation:
        result.validation = _to_dataset(validation)
    result.summary = {split: result.summary[split] for split in SPLITS if split in result.summary}
    return result


def _split_off_validation(
    train: list[Example], sources: dict[str, _Source], data: DataConfig, has_validation: bool, wanted: bool
) -> tuple[list[Example], list[Example]]:
    """Hold back the validation slice from the training mixture when the config asks for one."""
    if not wanted or (has_validation and data.hold_back == "auto"):
        return train, []
    if not 0 < data.validation_fraction < 1:
        raise ValueError("data.validation_fraction must be in (0, 1) to hold back a validation slice")
    givers = {name for name, source in sources.items() if source.config.hold_back}
    pool = [p for p in train if p["source"] in givers]
    if not pool:
        return train, []
    kept, held = _hold_back(pool, data.validation_fraction, data.seed)
    others = [p for p in train if p["source"] not in givers]
    return kept + others, held


def _apply_weights(train: list[Example], sources: dict[str, _Source], data: DataConfig, summary: dict) -> list[Example]:
    """Sample each training source by its weight; one summary row per source with what it contributes."""
    by_source = _by_source(train)
    weighted = any(source.config.weight != 1.0 for source in sources.values())
    out: list[Example] = []
    for name, source in sources.items():
        pairs = _weigh(by_source.get(name, []), source.config.weight, data.seed)
        summary[name] = source.stats(pairs, weight=source.config.weight)
        out += pairs
    if not weighted:
        return train  # the shuffled order, untouched
    random.Random(data.seed + 2).shuffle(out)
    return out


# An augmentation: (training pairs, its data.augment fraction, the data config) -> the pairs it adds.
Augmentation = Callable[[list[Example], float, DataConfig], list[Example]]


def _capability_pairs(train: list[Example], fraction: float, data: DataConfig) -> list[Example]:
    return capability_pairs(int(fraction * len(train)), data.seed, data.augment.capability_families)


def _seeded(make: Callable[[list[Example], float, int], list[Example]]) -> Augmentation:
    """An augmentation that needs only the data seed of the config."""
    return lambda train, fraction, data: make(train, fraction, data.seed)


# Each data.augment fraction, the summary row it adds and the pairs it makes from the training pairs (before any
# augmentation: every fraction counts from them), in the order they are added.
AUGMENTATIONS: list[tuple[str, str, Augmentation]] = [
    ("swap_contradictions", "+ swapped contradictions", _seeded(swap_contradictions)),
    ("random_premise_neutral", "+ random-premise neutrals", _seeded(random_premise_neutrals)),
    ("blank_premise", "+ blanked premises", _seeded(blank_premises)),
    ("minimal_pairs", "+ one-word contrasts", _seeded(minimal_pairs)),
    ("capabilities", "+ capability pairs", _capability_pairs),
]


def _augment(train: list[Example], data: DataConfig, summary: dict) -> Dataset:
    """Add the configured augmentations to the training pairs and record their size in the summary."""
    extra: list[Example] = []
    for key, row, make in AUGMENTATIONS:
        fraction = getattr(data.augment, key)
        if fraction > 0:
            pairs = make(train, fraction, data)
            summary[row] = _stats(pairs)
            extra += pairs
    merged = train + extra
    random.Random(data.seed + 1).shuffle(merged)
    summary["(training total)"] = _stats(merged)
    return _to_dataset(merged)


def format_summary(summary: dict[str, dict[str, dict]]) -> str:
    """A Markdown table: one row per split and source with its size, label balance and dropped rows.

    ``skipped`` counts rows dropped on purpose (``skip_labels``: SNLI's "-", AVeriTeC's conflicting
    evidence), ``bad rows`` those stepped over with ``on_error=skip`` (listed in ``skipped_rows.jsonl``),
    ``leaks`` pairs dropped by the leakage guard, ``duplicates`` repeats of earlier pairs; ``weight`` is
    the training source's sampling weight (``n`` counts its pairs after it).
    """
    lines = [
        "| split | source | n | " + " | ".join(LABELS) + " | skipped | bad rows | leaks | duplicates | weight |",
        "|---|---|---:|" + "---:|" * len(LABELS) + "---:|---:|---:|---:|---:|",
    ]
    for split in sorted(summary, key=lambda name: SPLITS.index(name) if name in SPLITS else len(SPLITS)):
        for name, stats in summary[split].items():
            n = stats["n"] or 1
            cells = [f"{stats['labels'][lab]} ({100 * stats['labels'][lab] / n:.0f}%)" for lab in LABELS]
            counts = [stats.get(key, 0) for key in ("skipped", "bad", "leaked", "duplicates")]
            weight = "" if stats.get("weight") is None else f"{stats['weight']:g}"
            lines.append(
                f"| {split} | {name} | {stats['n']} | "
                + " | ".join(cells)
                + " | "
                + " | ".join(map(str, counts))
                + f" | {weight} |"
            )
    return "\n".join(lines)
