"""Bad input stops with file, line and field, or with on_error=skip is counted and kept (docs/reliability.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stancekit.config import SourceConfig
from stancekit.data import DataError, build_splits, load_source
from tests.helpers import GOOD, GOOD2, compose_config, jline, with_, without, write_case

# name: (file name, file bytes, source options, bad line, bad field, problem pattern). Each file has a good
# row, the bad row on `line`, then another good row, so "skip" must keep exactly two pairs.
ROW_CASES = {
    "malformed_json": ("x.jsonl", jline(GOOD) + '{"premise": "a", \n' + jline(GOOD2), {}, 2, None, "not valid JSON"),
    "json_not_an_object": ("x.jsonl", jline(GOOD) + '["a", "b", "support"]\n' + jline(GOOD2), {}, 2, None, "got list"),
    "not_utf8_jsonl": (
        "x.jsonl",
        jline(GOOD).encode()
        + b'{"premise": "caf\xe9 talks", "hypothesis": "h", "label": "support"}\n'
        + jline(GOOD2).encode(),
        {},
        2,
        "premise",
        r"not UTF-8 text \(byte 0xe9",
    ),
    "not_utf8_csv": (
        "x.csv",
        b"premise,hypothesis,label\na,b,support\ncaf\xe9,b,neutral\nc,d,neutral\n",
        {"adapter": "csv"},
        3,
        "premise",
        r"not UTF-8 text \(byte 0xe9",
    ),
    "csv_wrong_cell_count": (
        "x.csv",
        "premise,hypothesis,label\na,b,support\na,b,c,neutral\nc,d,neutral\n",
        {"adapter": "csv"},
        3,
        None,
        "expected 3 columns",
    ),
    "csv_unclosed_quote": (
        "x.csv",
        'premise,hypothesis,label\na,b,support\n"unclosed,b,neutral\nc,d,neutral\n',
        {"adapter": "csv"},
        3,
        None,
        "an unclosed quote",
    ),
    "missing_column_in_a_row": (
        "x.jsonl",
        jline(GOOD) + jline(without("hypothesis")) + jline(GOOD2),
        {},
        2,
        "hypothesis",
        "missing column",
    ),
    "unknown_label": (
        "x.jsonl",
        jline(GOOD) + jline(with_(label="agree")) + jline(GOOD2),
        {},
        2,
        "label",
        "unknown label 'agree'",
    ),
    "null_label": ("x.jsonl", jline(GOOD) + jline(with_(label=None)) + jline(GOOD2), {}, 2, "label", "label is null"),
    "empty_text": ("x.jsonl", jline(GOOD) + jline(with_(premise="")) + jline(GOOD2), {}, 2, "premise", "empty text"),
    "whitespace_text": (
        "x.jsonl",
        jline(GOOD) + jline(with_(hypothesis=" \t ")) + jline(GOOD2),
        {},
        2,
        "hypothesis",
        "empty text",
    ),
    "null_text": (
        "x.jsonl",
        jline(GOOD) + jline(with_(premise=None)) + jline(GOOD2),
        {},
        2,
        "premise",
        "value is null",
    ),
    "number_as_text": (
        "x.jsonl",
        jline(GOOD) + jline(with_(hypothesis=3)) + jline(GOOD2),
        {},
        2,
        "hypothesis",
        "expected text, got int",
    ),
    "list_as_text": (
        "x.jsonl",
        jline(GOOD) + jline(with_(premise=["a"])) + jline(GOOD2),
        {},
        2,
        "premise",
        "expected text, got list",
    ),
    "duplicate_id": (
        "x.jsonl",
        jline(GOOD) + jline({**GOOD2, "id": "g1"}) + jline({**GOOD2, "id": "g3"}),
        {"id_column": "id"},
        2,
        "id",
        r"duplicate id 'g1' \(first on line 1\)",
    ),
    "empty_id": (
        "x.jsonl",
        jline(GOOD) + jline(with_(id=" ")) + jline(GOOD2),
        {"id_column": "id"},
        2,
        "id",
        "empty id",
    ),
}


def source(path: Path, **options) -> SourceConfig:
    return SourceConfig(**{"adapter": "jsonl", "files": [str(path)], **options})


@pytest.mark.parametrize("case", sorted(ROW_CASES))
def test_bad_row_raises_naming_file_line_and_field(tmp_path, case):
    name, content, options, line, field, problem = ROW_CASES[case]
    path = write_case(tmp_path, name, content)
    with pytest.raises(DataError, match=problem) as err:
        load_source(source(path, **options), tmp_path)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), line, field)
    where = f"{path}, line {line}" + (f", field {field!r}" if field else "")
    assert str(err.value).startswith(where)


@pytest.mark.parametrize("case", sorted(ROW_CASES))
def test_bad_row_is_skipped_counted_and_kept_with_on_error_skip(tmp_path, case):
    name, content, options, line, field, problem = ROW_CASES[case]
    path = write_case(tmp_path, name, content)
    read = load_source(source(path, on_error="skip", **options), tmp_path)
    # An unclosed quote runs to the end of the file (CSV quotes may span lines), taking the last row with it.
    kept = 1 if case == "csv_unclosed_quote" else 2
    assert len(read.pairs) == kept and len(read.bad_rows) == 1
    bad = read.bad_rows[0]
    assert (bad["file"], bad["line"], bad["field"]) == (str(path), line, field)
    assert re.search(problem, bad["problem"])
    assert bad["raw"], "the raw row is kept"
    json.dumps(bad)  # writable as a line of skipped_rows.jsonl, even with undecodable bytes


def test_data_on_error_applies_to_every_source_and_a_source_can_override(tmp_path):
    bad = write_case(tmp_path, "bad.jsonl", jline(GOOD) + jline(with_(label="agree")) + jline(GOOD2))
    cfg = compose_config("train", ["data=jsonl", f"data.test_file={bad}", "data.on_error=skip", "paths.output_dir=/x"])
    splits = build_splits(cfg.data, tmp_path, ("test",))
    assert len(splits.test["jsonl"]) == 2 and [r["line"] for r in splits.skipped_rows] == [2]
    assert splits.summary["test"]["jsonl"]["bad"] == 1
    cfg.data.test = [source(bad, name="strict", on_error="raise")]
    with pytest.raises(DataError, match="line 2, field 'label'"):
        build_splits(cfg.data, tmp_path, ("test",))


FILE_CASES = {
    # name: (file name, bytes, options, problem): errors about the whole file, raised even with on_error=skip.
    "empty_jsonl": ("x.jsonl", b"", {}, r"x.jsonl: empty file"),
    "blank_lines_only": ("x.jsonl", b"\n  \n\t\n", {}, r"x.jsonl: empty file"),
    "empty_csv": ("x.csv", b"", {"adapter": "csv"}, r"x.csv: empty file \(no header row\)"),
    "csv_header_only": ("x.csv", b"premise,hypothesis,label\n", {"adapter": "csv"}, r"x.csv: no data rows"),
    "renamed_csv_column": (
        "x.csv",
        b"premise,claim,label\na,b,support\n",
        {"adapter": "csv"},
        r"x.csv, line 2, field 'hypothesis': missing column \(found: premise, claim, label; is it named differently",
    ),
    "column_twice_in_header": ("x.csv", b"premise,hypothesis,label,label\na,b,c,d\n", {"adapter": "csv"}, "named more"),
    "utf16_file": ("x.jsonl", jline(GOOD).encode("utf-16"), {}, r"x.jsonl: UTF-16/32 text, not UTF-8"),
    "every_row_bad": ("x.jsonl", jline(with_(label="agree")) * 3, {}, r"line 1, field 'label': unknown label 'agree'"),
    "file_not_found": ("elsewhere.jsonl", None, {}, r"nope.jsonl: file not found"),
}


@pytest.mark.parametrize("mode", ["raise", "skip"])
@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_bad_file_is_an_error_in_either_mode(tmp_path, case, mode):
    name, content, options, problem = FILE_CASES[case]
    path = tmp_path / "nope.jsonl" if content is None else write_case(tmp_path, name, content)
    with pytest.raises(DataError, match=problem):
        load_source(source(path, on_error=mode, **options), tmp_path)


def test_empty_line_aligned_files(tmp_path):
    folder = tmp_path / "snli"
    folder.mkdir()
    for stem in ("s1", "s2", "labels"):
        (folder / f"{stem}.dev").write_text("")
    cfg = compose_config("train", ["data=snli", "paths.output_dir=/x"]).data
    with pytest.raises(DataError, match=r"s1.dev: empty file"):
        load_source(cfg.train[0], tmp_path)


def test_bad_bytes_in_line_aligned_files_point_at_their_file(tmp_path):
    folder = tmp_path / "snli"
    folder.mkdir()
    (folder / "s1.dev").write_bytes(b"a man sleeps .\nan old caf\xe9 .\n")
    (folder / "s2.dev").write_text("a man is awake .\nthe cafe is new .\n")
    (folder / "labels.dev").write_text("contradiction\ncontradiction\n")
    src = compose_config("train", ["data=snli", "paths.output_dir=/x"]).data.train[0]
    with pytest.raises(DataError, match=r"s1.dev, line 2, field 'premise': not UTF-8"):
        load_source(src, tmp_path)
    src.on_error = "skip"
    read = load_source(src, tmp_path)
    assert len(read.pairs) == 1 and read.bad_rows[0]["file"].endswith("s1.dev")


def test_bad_bytes_are_reported_on_their_own_line_far_into_a_file(tmp_path):
    """Decoding happens in 8 KiB blocks; the error must still name the exact line, not the block's."""
    rows = [{**GOOD, "id": f"r{i}"} for i in range(3000)]
    body = "".join(jline(r) for r in rows).encode()
    path = write_case(tmp_path, "big.jsonl", body + b'{"premise": "\xff", "hypothesis": "h", "label": "support"}\n')
    with pytest.raises(DataError, match=r"big.jsonl, line 3001, field 'premise': not UTF-8 text \(byte 0xff"):
        load_source(source(path), tmp_path)


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    jsonl = write_case(tmp_path, "bom.jsonl", b"\xef\xbb\xbf" + jline(GOOD).encode())
    csv_file = write_case(tmp_path, "bom.csv", b"\xef\xbb\xbfpremise,hypothesis,label\na,b,support\n")
    assert len(load_source(source(jsonl), tmp_path).pairs) == 1
    assert len(load_source(source(csv_file, adapter="csv"), tmp_path).pairs) == 1


def test_missing_column_in_a_jsonl_row_is_a_row_problem_but_in_a_csv_header_a_file_problem(tmp_path):
    jsonl = write_case(tmp_path, "x.jsonl", jline(GOOD) + jline(without("label")) + jline(GOOD2))
    assert len(load_source(source(jsonl, on_error="skip"), tmp_path).pairs) == 2
    csv_file = write_case(tmp_path, "x.csv", "premise,claim,label\na,b,support\nc,d,neutral\n")
    with pytest.raises(DataError, match="missing column"):
        load_source(source(csv_file, adapter="csv", on_error="skip"), tmp_path)


def test_invalid_on_error_value(tmp_path):
    path = write_case(tmp_path, "x.jsonl", jline(GOOD))
    with pytest.raises(ValueError, match=r"on_error must be one of \['raise', 'skip'\]"):
        load_source(source(path, on_error="ignore"), tmp_path)


def test_data_error_survives_pickling():
    """A failed sweep job's exception travels back to the sweeping process (submitit) pickled."""
    import pickle

    err = pickle.loads(pickle.dumps(DataError("f.jsonl", 3, "label", "unknown label 'x'", fatal=True)))
    assert (err.path, err.line, err.field, err.fatal, str(err)) == (
        "f.jsonl",
        3,
        "label",
        True,
        "f.jsonl, line 3, field 'label': unknown label 'x'",
    )
