"""Low-level record readers that keep track of line numbers, so every error can say where it happened.

We read local files with the standard library instead of ``datasets.load_dataset("json")`` on purpose:
pyarrow's errors do not name the offending line or field, and a data set "from many hands" needs that.
The rows are turned into a ``datasets.Dataset`` right after (see ``splits.py``).
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import DataError, RowErrors

# Some benchmark bodies (FNC-1, ARC) hold fields larger than csv's 128 KiB default limit.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

Record = dict[str, Any]

ENCODING_HINT = "re-save the file as UTF-8 (for example: iconv -f latin1 -t utf-8 IN > OUT)"
# Bytes that are not UTF-8 come back from the "surrogateescape" error handler as lone surrogates U+DC80-U+DCFF.
_UNDECODED = re.compile("[\udc80-\udcff]")
_UTF16_32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def bad_utf8(text: str) -> str | None:
    """Describe the first byte of ``text`` that was not UTF-8 (as read by :func:`open_text`), or ``None``."""
    if text.isascii():
        return None
    found = _UNDECODED.search(text)
    if found is None:
        return None
    byte = ord(found.group()) - 0xDC00
    return f"not UTF-8 text (byte 0x{byte:02x} at character {found.start() + 1}); {ENCODING_HINT}"


def open_text(path: Path):
    """Open a UTF-8 text file for reading, so that every decoding problem can be named by line and field.

    A leading UTF-8 byte-order mark (Excel, Notepad) is dropped. Bytes that are not UTF-8 do not stop the
    read at some 8 KiB read-ahead boundary: they come back as lone surrogates, and the readers below
    report them on their own line (see :func:`bad_utf8`). UTF-16/32 files (Excel's "Unicode text") are
    recognised by their byte-order mark and refused as a whole.
    """
    if not path.exists():
        raise DataError(path, None, None, "file not found", fatal=True)
    if path.is_dir():
        raise DataError(path, None, None, "is a folder, expected a file", fatal=True)
    with path.open("rb") as raw:
        head = raw.read(4)
    if head.startswith(_UTF16_32_BOMS):
        raise DataError(path, None, None, f"UTF-16/32 text, not UTF-8; {ENCODING_HINT}", fatal=True)
    return path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="")


def _undecoded_field(record: Record) -> str | None:
    for name, value in record.items():
        if isinstance(value, str) and bad_utf8(value):
            return str(name)
    return None


def iter_jsonl(path: Path, errors: RowErrors | None = None) -> Iterator[tuple[int, Record]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSON Lines file.

    A bad line (not JSON, not an object, not UTF-8) goes to ``errors``: raised by default, or skipped and
    recorded with ``on_error=skip``. A file without a single non-blank line is an error.
    """
    errors = errors or RowErrors()
    seen_content = False
    with open_text(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            seen_content = True
            raw = line.rstrip("\r\n")
            undecoded = bad_utf8(line)
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                problem = undecoded or f"not valid JSON ({err.msg} at column {err.colno})"
                errors.report(DataError(path, line_no, None, problem), raw)
                continue
            if not isinstance(record, dict):
                problem = f"expected a JSON object, got {type(record).__name__}"
                errors.report(DataError(path, line_no, None, problem), raw)
                continue
            if undecoded:
                errors.report(DataError(path, line_no, _undecoded_field(record), undecoded), raw)
                continue
            yield line_no, record
    if not seen_content:
        raise DataError(path, None, None, "empty file (no JSON lines)", fatal=True)


QUOTING_MODES = {"csv": csv.QUOTE_MINIMAL, "none": csv.QUOTE_NONE}


def iter_csv(
    path: Path, delimiter: str | None = None, errors: RowErrors | None = None, quoting: str | None = None
) -> Iterator[tuple[int, Record]]:
    """Yield ``(line_number, row)`` for a CSV/TSV file with a header row.

    ``.tsv``/``.txt`` files are read as tab-separated with no quoting (the MNLI and SICK convention: quotes
    are ordinary characters there); others as RFC 4180 CSV, where a quoted field may span lines.
    ``quoting`` ("csv" or "none") overrides that choice, for quoted TSV files (CAD, TaxiNLI). The line
    number is where the record starts. Rows with the wrong number of cells or bytes that are not UTF-8 go
    to ``errors``; a missing or unreadable header, or a file with no rows, is an error for the whole file.
    """
    errors = errors or RowErrors()
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() in {".tsv", ".txt"} else ","
    if quoting is None:
        quoting = "none" if delimiter == "\t" else "csv"
    if quoting not in QUOTING_MODES:
        raise ValueError(f"{path}: quoting must be one of {list(QUOTING_MODES)}, not {quoting!r}")
    with open_text(path) as handle:
        reader = csv.reader(handle, delimiter=delimiter, quoting=QUOTING_MODES[quoting])
        start = 1
        try:
            header = next(reader, None)
            if header is None:
                raise DataError(path, None, None, "empty file (no header row)", fatal=True)
            header = [h.strip().lstrip("\ufeff") for h in header]
            for name in header:
                if undecoded := bad_utf8(name):
                    raise DataError(path, 1, None, f"header: {undecoded}", fatal=True)
            twice = sorted({h for h in header if header.count(h) > 1})
            if twice:
                raise DataError(path, 1, twice[0], "column named more than once in the header", fatal=True)
            start = reader.line_num + 1
            rows = 0
            for row in reader:
                line_no, start = start, reader.line_num + 1
                if not row or all(not cell.strip() for cell in row):
                    continue
                rows += 1
                raw = delimiter.join(row)
                if len(row) != len(header):
                    hint = ""
                    if start - line_no > 1:
                        hint = f" (this row runs over lines {line_no}-{start - 1}: an unclosed quote?)"
                    problem = f"expected {len(header)} columns ({', '.join(header)}), found {len(row)}{hint}"
                    errors.report(DataError(path, line_no, None, problem), raw)
                    continue
                record = {name: value.rstrip("\r") for name, value in zip(header, row)}
                if undecoded := bad_utf8(raw):
                    errors.report(DataError(path, line_no, _undecoded_field(record), undecoded), raw)
                    continue
                yield line_no, record
        except csv.Error as err:
            raise DataError(path, start, None, f"malformed CSV ({err})", fatal=True) from None
    if rows == 0:
        raise DataError(path, None, None, "no data rows below the header", fatal=True)


def iter_json_array(path: Path, member: str | None = None) -> Iterator[tuple[int, Record]]:
    """Yield ``(line_number, object)`` for each object of a file holding one JSON array (AVeriTeC).

    ``member``: read that member of the zip archive ``path`` in place (nothing is unpacked); errors then
    name ``archive!member``. The line number is where the object starts, so an error points at it.
    """
    where: str | Path = path
    if member is None:
        with open_text(path) as handle:
            text = handle.read()
    else:
        if not path.exists():
            raise DataError(path, None, None, "file not found", fatal=True)
        where = f"{path}!{member}"
        try:
            with zipfile.ZipFile(path) as archive, archive.open(member) as raw:
                text = raw.read().decode("utf-8-sig", errors="surrogateescape")
        except KeyError:
            raise DataError(path, None, None, f"the zip archive has no member {member!r}", fatal=True) from None
        except zipfile.BadZipFile as err:
            raise DataError(path, None, None, f"not a readable zip archive ({err})", fatal=True) from None
    decoder = json.JSONDecoder()
    start = len(text) - len(text.lstrip())
    if not text.startswith("[", start):
        raise DataError(where, None, None, "expected a JSON array of objects", fatal=True)
    index, line = start + 1, 1 + text.count("\n", 0, start)
    while True:
        skipped = index
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        line += text.count("\n", skipped, index)
        if index >= len(text) or text[index] == "]":
            return
        try:
            record, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError as err:
            raise DataError(where, err.lineno, None, f"not valid JSON ({err.msg})", fatal=True) from None
        if not isinstance(record, dict):
            raise DataError(where, line, None, f"expected a JSON object, got {type(record).__name__}", fatal=True)
        yield line, record
        line += text.count("\n", index, end)
        index = end


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for every line of a plain text file (line-aligned formats).

    Every line is yielded, bad ones included, because line-aligned files must stay aligned: bytes that are
    not UTF-8 arrive as lone surrogates, and callers check each line with :func:`bad_utf8`.
    """
    with open_text(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            yield line_no, line.rstrip("\r\n")
