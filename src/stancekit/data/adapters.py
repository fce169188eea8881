"""Adapters: each turns one source (files or a hub data set) into labelled pairs.

A pair is ``{"id", "premise", "hypothesis", "label", "source"}`` where ``premise`` is the evidence (text A),
``hypothesis`` the claim (text B) and ``label`` an id from :mod:`stancekit.labels`. Four readers cover all
the formats we know; the data sets themselves (SNLI, MNLI, ANLI, SICK, FEVER-Symmetric, FNC-1, ARC) are
configs under ``configs/data/`` that pick a reader, its columns and their label map. Readers of data sets
with a structure of their own (Check-COVID, AVeriTeC) are in ``claim_sets.py``; ``sources.py`` dispatches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..config import SourceConfig
from ..labels import LABELS, UnknownLabelError, map_label, validate_label_map
from .errors import DataError, RowErrors
from .readers import Record, bad_utf8, iter_csv, iter_jsonl, iter_lines

# One labelled row as the adapters produce it: id, premise, hypothesis, label (an id into LABELS), source.
Example = dict[str, Any]
# A file reader: (source, data root, pair builder) -> pairs.
Reader = Callable[[SourceConfig, Path, "PairBuilder"], Iterator[Example]]

# Readers of JSON records, where a field can be missing from one row only (in a CSV every row has every column).
JSON_ADAPTERS = ("jsonl", "check_covid", "averitec")

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


def _missing(record: Record, column: str, path: Path | str, line: int, fatal: bool, what: str = "column") -> DataError:
    found = ", ".join(map(str, record))
    return DataError(path, line, column, f"missing {what} (found: {found}; is it named differently?)", fatal=fatal)


def text_value(
    record: Record,
    column: str,
    path: Path | str,
    line: int,
    fatal_missing: bool = False,
    strip: bool = True,
    what: str = "column",
) -> str:
    """The non-empty text in ``record[column]``, or a :class:`DataError` naming file, line and field.

    ``fatal_missing``: a missing column is a problem of the whole file (CSV headers), not of one row.
    ``what`` names the thing in the message ("column" for data sets, "field" for prediction input).
    """
    if column not in record:
        raise _missing(record, column, path, line, fatal_missing, what)
    value = record[column]
    if value is None:
        raise DataError(path, line, column, "value is null")
    if not isinstance(value, str):
        raise DataError(path, line, column, f"expected text, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise DataError(path, line, column, "empty text")
    return value.strip() if strip else value


class PairBuilder:
    """Turns records into pairs for one source: columns, label map, skips, duplicate ids and error context.

    A bad record goes to ``self.errors``: raised with ``on_error=raise`` (the default), or skipped, counted
    and kept for ``skipped_rows.jsonl`` with ``on_error=skip`` (then the call returns ``None``).
    """

    def __init__(
        self, src: SourceConfig, default_label_map: Mapping[str, str] = IDENTITY_LABEL_MAP, on_error: str = "raise"
    ):
        self.src = src
        self.name = source_name(src)
        self.label_map = dict(src.label_map) or dict(default_label_map)
        validate_label_map(self.label_map, f"data source {self.name!r}")
        self.skip = {s.strip() for s in src.skip_labels}
        self.skipped = 0
        self.errors = RowErrors(getattr(src, "on_error", None) or on_error, self.name)
        # Every row of a CSV/TSV, line-aligned or hub source has the same columns, so a column missing from
        # one row is missing from all of them (renamed, say): an error for the whole source, even with skip.
        self.uniform_columns = src.adapter not in JSON_ADAPTERS or bool(src.hub_id)
        self.seen_ids: dict[str, tuple[str, int]] = {}

    def __call__(
        self,
        record: Record,
        path: Path | str,
        line: int,
        premise: str | None = None,
        paths: Mapping[str, Path] | None = None,
    ) -> Example | None:
        """The pair of one record, or ``None`` when it is skipped (``skip_labels``, or a bad row with skip).

        ``paths`` maps fields to the file that holds them, for formats that spread a row over several files.
        """
        try:
            pair = self._build(record, path, line, premise)
        except DataError as err:
            if paths and err.field in paths:
                err = DataError(paths[err.field], err.line, err.field, err.problem, err.fatal)
            self.errors.report(err, record)
            return None
        if pair is not None and self.src.id_column:
            self.seen_ids[pair["id"]] = (str(path), line)
        return pair

    def _build(self, record: Record, path: Path | str, line: int, premise: str | None) -> Example | None:
        src = self.src
        if src.label_column not in record:
            raise _missing(record, src.label_column, path, line, self.uniform_columns)
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
            premise = text_value(record, src.premise_column, path, line, self.uniform_columns)
        hypothesis = text_value(record, src.hypothesis_column, path, line, self.uniform_columns)
        pair_id = self._pair_id(record, path, line) if src.id_column else f"{self.name}:{line}"
        return {"id": pair_id, "premise": premise, "hypothesis": hypothesis, "label": label, "source": self.name}

    def _pair_id(self, record: Record, path: Path | str, line: int) -> str:
        column = self.src.id_column
        if column not in record:
            raise _missing(record, column, path, line, self.uniform_columns)
        value = record[column]
        if value is None or not str(value).strip():
            raise DataError(path, line, column, "empty id")
        pair_id = str(value).strip()
        if pair_id in self.seen_ids:
            first_path, first_line = self.seen_ids[pair_id]
            where = f"line {first_line}" if first_path == str(path) else f"{first_path}, line {first_line}"
            raise DataError(path, line, column, f"duplicate id {pair_id!r} (first on {where})")
        return pair_id


def keep_row(src: SourceConfig, record: Record, path: Path | str, line: int, errors: RowErrors) -> bool:
    """Whether a record belongs to the part of its file this source reads: ``split_column == split``, and
    the ``where`` / ``where_not`` column values. A missing column is a bad row (of the file, for CSV)."""
    tests = [(src.split_column, [src.split], True)] if src.split_column else []
    tests += [(column, values, True) for column, values in src.where.items()]
    tests += [(column, values, False) for column, values in src.where_not.items()]
    for column, values, wanted in tests:
        if column not in record:
            what = "missing split column" if column == src.split_column else "missing column named in where"
            errors.report(DataError(path, line, column, what, fatal=src.adapter not in JSON_ADAPTERS))
            return False
        if (str(record[column]).strip() in {str(v) for v in values}) != wanted:
            return False
    return True


def need_files(src: SourceConfig) -> list[str]:
    if not src.files:
        raise ValueError(f"data source {source_name(src)!r} ({src.adapter}) lists no files")
    return list(src.files)


def read_jsonl(src: SourceConfig, root: Path, build: PairBuilder) -> Iterator[Example]:
    """JSON Lines, one object per pair, fields named by the source's columns."""
    for name in need_files(src):
        path = resolve_path(name, root)
        for line, record in iter_jsonl(path, build.errors):
            if keep_row(src, record, path, line, build.errors) and (pair := build(record, path, line)) is not None:
                yield pair


def read_csv(src: SourceConfig, root: Path, build: PairBuilder) -> Iterator[Example]:
    """CSV/TSV with a header row, columns named by the source's config."""
    for name in need_files(src):
        path = resolve_path(name, root)
        for line, record in iter_csv(path, src.delimiter, build.errors, src.quoting):
            if keep_row(src, record, path, line, build.errors) and (pair := build(record, path, line)) is not None:
                yield pair


def read_line_aligned(src: SourceConfig, root: Path, build: PairBuilder) -> Iterator[Example]:
    """SNLI as distributed by InferSent: ``s1.<split>``, ``s2.<split>``, ``labels.<split>``, line by line.

    ``files`` names the folder; ``split`` the suffix. The three files must have the same number of lines.
    """
    if not src.split:
        raise ValueError(f"data source {source_name(src)!r}: line_aligned needs a split (e.g. dev or test)")
    for folder_name in need_files(src):
        folder = resolve_path(folder_name, root)
        paths = [folder / f"{stem}.{src.split}" for stem in ("s1", "s2", "labels")]
        columns = [src.premise_column, src.hypothesis_column, src.label_column]
        # Errors point at the file that holds the bad field.
        by_field = dict(zip(columns, paths))
        iterators = [iter_lines(p) for p in paths]
        sentinel = (None, None)
        line = 0
        while True:
            rows = [next(it, sentinel) for it in iterators]
            if all(r is sentinel for r in rows):
                break
            for path, row in zip(paths, rows):
                if row is sentinel:
                    line = max(r[0] for r in rows if r is not sentinel)
                    raise DataError(
                        path, line, None, "file ends early: s1/s2/labels must have the same line count", fatal=True
                    )
            line = rows[0][0]
            record = dict(zip(columns, (text for _, text in rows)))
            undecoded = [(column, problem) for column in columns if (problem := bad_utf8(record[column]))]
            if undecoded:
                column, problem = undecoded[0]
                build.errors.report(DataError(by_field[column], line, column, problem), record)
                continue
            if (pair := build(record, paths[2], line, paths=by_field)) is not None:
                yield pair
        if line == 0:
            raise DataError(paths[0], None, None, "empty file", fatal=True)


def _read_ids(path: Path) -> set[str]:
    ids = set()
    for line, text in iter_lines(path):
        if problem := bad_utf8(text):
            raise DataError(path, line, None, problem, fatal=True)
        if text.strip():
            ids.add(text.strip())
    return ids


def read_stance_bodies(src: SourceConfig, root: Path, build: PairBuilder) -> Iterator[Example]:
    """FNC-1 / ARC: stance rows (Headline, Body ID, Stance) joined with the article bodies by body id.

    The body is the evidence (premise) and the headline the claim (hypothesis). ``body_ids_file`` keeps only
    the listed bodies (FNC-1's hold-out split is defined by body ids, so no article leaks across splits).
    """
    if not src.bodies_file:
        raise ValueError(f"data source {source_name(src)!r}: stance_bodies needs bodies_file")
    bodies_path = resolve_path(src.bodies_file, root)
    bodies: dict[str, str] = {}
    for line, record in iter_csv(bodies_path, ",", build.errors):
        if "Body ID" not in record:
            raise _missing(record, "Body ID", bodies_path, line, fatal=True)
        try:
            bodies[str(record["Body ID"]).strip()] = text_value(record, "articleBody", bodies_path, line, True)
        except DataError as err:
            build.errors.report(err, record)
    keep = _read_ids(resolve_path(src.body_ids_file, root)) if src.body_ids_file else None
    body_column = src.premise_column
    for name in need_files(src):
        path = resolve_path(name, root)
        for line, record in iter_csv(path, ",", build.errors):
            if body_column not in record:
                raise _missing(record, body_column, path, line, fatal=True)
            body_id = str(record[body_column]).strip()
            if keep is not None and body_id not in keep:
                continue
            if body_id not in bodies:
                problem = f"body id {body_id!r} not in {bodies_path}"
                build.errors.report(DataError(path, line, body_column, problem), record)
                continue
            pair = build(record, path, line, premise=bodies[body_id])
            if pair is not None:
                pair["id"] = f"{source_name(src)}:{path.name}:{line}"
                yield pair
