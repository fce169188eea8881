"""Low-level record readers that keep track of line numbers, so every error can say where it happened.

We read local files with the standard library instead of ``datasets.load_dataset("json")`` on purpose:
pyarrow's errors do not name the offending line or field, and a data set "from many hands" needs that.
The rows are turned into a ``datasets.Dataset`` right after (see ``splits.py``).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import DataError

# Some benchmark bodies (FNC-1, ARC) hold fields larger than csv's 128 KiB default limit.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

Record = dict[str, Any]


def _open_text(path: Path):
    if not path.exists():
        raise DataError(path, None, None, "file not found")
    return path.open("r", encoding="utf-8", newline="")


def iter_jsonl(path: Path) -> Iterator[tuple[int, Record]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSON Lines file."""
    with _open_text(path) as handle:
        line_no = 0
        try:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise DataError(path, line_no, None, f"not valid JSON ({err.msg} at column {err.colno})") from None
                if not isinstance(record, dict):
                    raise DataError(path, line_no, None, f"expected a JSON object, got {type(record).__name__}")
                yield line_no, record
        except UnicodeDecodeError as err:
            raise DataError(path, line_no + 1, None, f"not UTF-8 text ({err.reason})") from None


def iter_csv(path: Path, delimiter: str | None = None) -> Iterator[tuple[int, Record]]:
    """Yield ``(line_number, row)`` for a CSV/TSV file with a header row.

    ``.tsv``/``.txt`` files are read as tab-separated with no quoting (the MNLI and SICK convention: quotes
    are ordinary characters there); others as RFC 4180 CSV, where a quoted field may span lines. The line
    number is where the record starts.
    """
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() in {".tsv", ".txt"} else ","
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    with _open_text(path) as handle:
        reader = csv.reader(handle, delimiter=delimiter, quoting=quoting)
        start = 1
        try:
            header = next(reader, None)
            if header is None:
                raise DataError(path, None, None, "empty file (no header row)")
            header = [h.strip().lstrip("\ufeff") for h in header]
            start = reader.line_num + 1
            for row in reader:
                line_no, start = start, reader.line_num + 1
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise DataError(
                        path, line_no, None, f"expected {len(header)} columns ({', '.join(header)}), found {len(row)}"
                    )
                yield line_no, {name: value.rstrip("\r") for name, value in zip(header, row)}
        except UnicodeDecodeError as err:
            raise DataError(path, start, None, f"not UTF-8 text ({err.reason})") from None
        except csv.Error as err:
            raise DataError(path, start, None, f"malformed CSV ({err})") from None


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for every line of a plain text file (line-aligned formats)."""
    with _open_text(path) as handle:
        line_no = 0
        try:
            for line_no, line in enumerate(handle, start=1):
                yield line_no, line.rstrip("\r\n")
        except UnicodeDecodeError as err:
            raise DataError(path, line_no + 1, None, f"not UTF-8 text ({err.reason})") from None
