"""Adapters: each turns one source (files or a hub data set) into labelled pairs.

A pair is ``{"id", "premise", "hypothesis", "label", "source"}`` where ``premise`` is the evidence (text A),
``hypothesis`` the claim (text B) and ``label`` an id from :mod:`stancekit.labels`. Four readers cover all
the formats we know; the data sets themselves (SNLI, MNLI, ANLI, SICK, FEVER-Symmetric, FNC-1, ARC) are
configs under ``configs/data/`` that pick a reader, its columns and their label map.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..config import SourceConfig
from ..labels import LABELS, UnknownLabelError, map_label, validate_label_map
from .errors import DataError
from .readers import Record, iter_csv, iter_jsonl, iter_lines

Pair = dict[str, Any]
Reader = Callable[[SourceConfig, Path, "_PairBuilder"], Iterator[Pair]]

# Files in our own format need no mapping; anything else must say how its labels map.
IDENTITY_LABEL_MAP: dict[str, str] = {name: name for name in LABELS}


def source_name(src: SourceConfig) -> str:
    """The name a source carries in reports: its configured name, else adapter (and split)."""
    if src.name:
        return src.name
    return f"{src.adapter}_{src.split}" if src.split else src.adapter


def resolve_path(path: str, root: Path) -> Path:
    """Absolute paths stay; relative ones are taken under the data root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else root / p


def _text(record: Record, column: str, path: Path | str, line: int) -> str:
    if column not in record:
        raise DataError(path, line, column, f"missing column (found: {', '.join(map(str, record))})")
    value = record[column]
    if value is None:
        raise DataError(path, line, column, "value is null")
    if not isinstance(value, str):
        raise DataError(path, line, column, f"expected text, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise DataError(path, line, column, "empty text")
    return value.strip()


class _PairBuilder:
    """Turns records into pairs for one source: columns, label map, skips and error context."""

    def __init__(self, src: SourceConfig, default_label_map: Mapping[str, str] = IDENTITY_LABEL_MAP):
        self.src = src
        self.name = source_name(src)
        self.label_map = dict(src.label_map) or dict(default_label_map)
        validate_label_map(self.label_map, f"data source {self.name!r}")
        self.skip = {s.strip() for s in src.skip_labels}
        self.skipped = 0

    def __call__(self, record: Record, path: Path | str, line: int, premise: str | None = None) -> Pair | None:
        src = self.src
        if src.label_column not in record:
            raise DataError(path, line, src.label_column, f"missing column (found: {', '.join(map(str, record))})")
        raw_label = record[src.label_column]
        if raw_label is None:
            raise DataError(path, line, src.label_column, "label is null")
        if str(raw_label).strip() in self.skip:
            self.skipped += 1
            return None
        try:
            label = map_label(raw_label, self.label_map)
        except UnknownLabelError as err:
            raise DataError(path, line, src.label_column, str(err)) from None
        if premise is None:
            premise = _text(record, src.premise_column, path, line)
        pair_id = record.get(src.id_column) if src.id_column else None
        return {
            "id": str(pair_id) if pair_id is not None else f"{self.name}:{line}",
            "premise": premise,
            "hypothesis": _text(record, src.hypothesis_column, path, line),
            "label": label,
            "source": self.name,
        }


def _keep_split(src: SourceConfig, record: Record, path: Path, line: int) -> bool:
    if not src.split_column:
        return True
    if src.split_column not in record:
        raise DataError(path, line, src.split_column, "missing split column")
    return str(record[src.split_column]).strip() == src.split


def _need_files(src: SourceConfig) -> list[str]:
    if not src.files:
        raise ValueError(f"data source {source_name(src)!r} ({src.adapter}) lists no files")
    return list(src.files)


def read_jsonl(src: SourceConfig, root: Path, build: _PairBuilder) -> Iterator[Pair]:
    """JSON Lines, one object per pair, fields named by the source's columns."""
    for name in _need_files(src):
        path = resolve_path(name, root)
        for line, record in iter_jsonl(path):
            if _keep_split(src, record, path, line) and (pair := build(record, path, line)) is not None:
                yield pair


def read_csv(src: SourceConfig, root: Path, build: _PairBuilder) -> Iterator[Pair]:
    """CSV/TSV with a header row, columns named by the source's config."""
    for name in _need_files(src):
        path = resolve_path(name, root)
        for line, record in iter_csv(path, src.delimiter):
            if _keep_split(src, record, path, line) and (pair := build(record, path, line)) is not None:
                yield pair


def read_line_aligned(src: SourceConfig, root: Path, build: _PairBuilder) -> Iterator[Pair]:
    """SNLI as distributed by InferSent: ``s1.<split>``, ``s2.<split>``, ``labels.<split>``, line by line.

    ``files`` names the folder; ``split`` the suffix. The three files must have the same number of lines.
    """
    if not src.split:
        raise ValueError(f"data source {source_name(src)!r}: line_aligned needs a split (e.g. dev or test)")
    for folder_name in _need_files(src):
        folder = resolve_path(folder_name, root)
        paths = [folder / f"{stem}.{src.split}" for stem in ("s1", "s2", "labels")]
        columns = [src.premise_column, src.hypothesis_column, src.label_column]
        iterators = [iter_lines(p) for p in paths]
        sentinel = (None, None)
        while True:
            rows = [next(it, sentinel) for it in iterators]
            if all(r is sentinel for r in rows):
                break
            for path, row in zip(paths, rows):
                if row is sentinel:
                    line = max(r[0] for r in rows if r is not sentinel)
                    raise DataError(path, line, None, "file ends early: s1/s2/labels must have the same line count")
            line = rows[0][0]
            record = dict(zip(columns, (text for _, text in rows)))
            # Errors should point at the file that holds the bad field.
            for path, column in zip(paths, columns):
                if not record[column].strip() and column != src.label_column:
                    raise DataError(path, line, column, "empty text")
            try:
                pair = build(record, paths[2], line)
            except DataError as err:
                raise DataError(
                    paths[columns.index(err.field)] if err.field in columns else paths[2], line, err.field, err.problem
                ) from None
            if pair is not None:
                yield pair


def _read_ids(path: Path) -> set[str]:
    return {text.strip() for _, text in iter_lines(path) if text.strip()}


def read_stance_bodies(src: SourceConfig, root: Path, build: _PairBuilder) -> Iterator[Pair]:
    """FNC-1 / ARC: stance rows (Headline, Body ID, Stance) joined with the article bodies by body id.

    The body is the evidence (premise) and the headline the claim (hypothesis). ``body_ids_file`` keeps only
    the listed bodies (FNC-1's hold-out split is defined by body ids, so no article leaks across splits).
    """
    if not src.bodies_file:
        raise ValueError(f"data source {source_name(src)!r}: stance_bodies needs bodies_file")
    bodies_path = resolve_path(src.bodies_file, root)
    bodies: dict[str, str] = {}
    for line, record in iter_csv(bodies_path, ","):
        body_id = record.get("Body ID")
        if body_id is None:
            raise DataError(bodies_path, line, "Body ID", "missing column")
        bodies[str(body_id).strip()] = _text(record, "articleBody", bodies_path, line)
    keep = _read_ids(resolve_path(src.body_ids_file, root)) if src.body_ids_file else None
    body_column = src.premise_column
    for name in _need_files(src):
        path = resolve_path(name, root)
        for line, record in iter_csv(path, ","):
            if body_column not in record:
                raise DataError(path, line, body_column, "missing column")
            body_id = str(record[body_column]).strip()
            if keep is not None and body_id not in keep:
                continue
            if body_id not in bodies:
                raise DataError(path, line, body_column, f"body id {body_id!r} not in {bodies_path}")
            pair = build(record, path, line, premise=bodies[body_id])
            if pair is not None:
                pair["id"] = f"{source_name(src)}:{path.name}:{line}"
                yield pair


def read_hub(src: SourceConfig, build: _PairBuilder) -> Iterator[Pair]:
    """A hub data set (users online): same columns and label map as a local file of that data set."""
    from datasets import load_dataset

    split = src.hub_split or src.split or "train"
    dataset = load_dataset(src.hub_id, src.hub_config, split=split)
    where = f"hub:{src.hub_id}[{split}]"
    for index, record in enumerate(dataset):
        if (pair := build(record, where, index + 1)) is not None:
            yield pair


READERS: dict[str, Reader] = {
    "jsonl": read_jsonl,
    "csv": read_csv,
    "line_aligned": read_line_aligned,
    "stance_bodies": read_stance_bodies,
}


def read_source(src: SourceConfig, root: Path) -> tuple[list[Pair], int]:
    """All pairs of one source (before capping) and the number of rows skipped by ``skip_labels``.

    Reads the hub data set instead of local files when ``hub_id`` is set.
    """
    build = _PairBuilder(src)
    if src.hub_id:
        return list(read_hub(src, build)), build.skipped
    if src.adapter not in READERS:
        raise ValueError(f"data source {source_name(src)!r}: unknown adapter {src.adapter!r}; known: {sorted(READERS)}")
    return list(READERS[src.adapter](src, root, build)), build.skipped
