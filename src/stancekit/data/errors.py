"""One error type for bad input, always naming where the problem is, and where skipped rows go
(``<run dir>/skipped_rows.jsonl``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..artifacts import write_jsonl

log = logging.getLogger(__name__)

SKIPPED_ROWS_FILE = "skipped_rows.jsonl"

# ``on_error`` values: stop at the first bad row (the default), or skip bad rows, count them and keep them.
ON_ERROR_MODES = ("raise", "skip")


class DataError(ValueError):
    """Bad input data: the message names the file, the line (1-based) and the field."""

    def __init__(self, path: str | Path, line: int | None, field: str | None, problem: str, fatal: bool = False):
        self.path = str(path)
        self.line = line
        self.field = field
        self.problem = problem
        # A fatal problem concerns the whole file (not found, empty, a column missing from a CSV header):
        # ``on_error=skip`` cannot step over it, because every row would be skipped.
        self.fatal = fatal
        where = self.path
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):
        # Rebuild from the fields (not the message), so the error survives pickling: multirun launchers
        # such as submitit send a failed job's exception back to the sweeping process.
        return (self.__class__, (self.path, self.line, self.field, self.problem, self.fatal))


class RowErrors:
    """Where row-level problems go: raised at once (``on_error=raise``) or counted and kept (``skip``).

    Readers and adapters report every bad row here and move on to the next one when this returns; a
    skipped row is kept (file, line, field, problem and the raw text) so that it can be written to
    ``skipped_rows.jsonl`` and nothing is lost silently. Fatal problems are raised in either mode.
    """

    def __init__(self, mode: str = "raise", source: str | None = None):
        if mode not in ON_ERROR_MODES:
            raise ValueError(f"on_error must be one of {list(ON_ERROR_MODES)}, not {mode!r}")
        self.mode = mode
        self.source = source
        self.skipped: list[dict[str, Any]] = []

    def report(self, error: DataError, raw: Any = None) -> None:
        """Raise ``error``, or (``skip`` mode, non-fatal) record it with the row's raw text and return."""
        if self.mode == "raise" or error.fatal:
            raise error
        if raw is not None and not isinstance(raw, str):
            raw = json.dumps(raw, default=str)
        self.skipped.append(
            {
                "source": self.source,
                "file": error.path,
                "line": error.line,
                "field": error.field,
                "problem": error.problem,
                "raw": raw,
            }
        )


def write_skipped_rows(rows: Sequence[dict[str, Any]], run_dir: str | Path) -> Path | None:
    """Write rows stepped over with ``on_error=skip`` to ``<run_dir>/skipped_rows.jsonl`` (atomically).

    One JSON object per row: ``source``, ``file``, ``line``, ``field``, ``problem`` and ``raw`` (the line as
    read; bytes that were not UTF-8 appear as ``\\udcXX`` escapes). Returns the path, or ``None`` when
    nothing was skipped (no file is written then, so an absent file means a clean read).
    """
    if not rows:
        return None
    # ensure_ascii keeps undecodable bytes (lone surrogates) writable as JSON escapes.
    path = write_jsonl(Path(run_dir) / SKIPPED_ROWS_FILE, rows, ensure_ascii=True)
    log.warning("%d bad rows skipped (on_error=skip); they are listed in %s", len(rows), path)
    return path
