"""Nothing lost, nothing trusted blindly: bad input, crash safety and loading safety (docs/reliability.md).

Every row of the bad-input table in docs/reliability.md names a test in this file (or tests/test_adapters.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

from conftest import SAMPLE_DIR, compose_config, tiny_train_overrides
from stancekit import StanceClassifier
from stancekit.artifacts import (
    METADATA_FILE,
    WEIGHTS_KEY,
    UnsafeModelError,
    WeightsIntegrityError,
    read_metadata,
    record_weights_hash,
    sha256_file,
    update_metadata,
)
from stancekit.cli import PROJECT_ROOT
from stancekit.config import SourceConfig
from stancekit.data import DataError, build_splits, load_source
from stancekit.labels import ID2LABEL, LABEL2ID
from stancekit.robustness import (
    SKIPPED_ROWS_FILE,
    TruncationWarning,
    count_over_length,
    is_complete_checkpoint,
    last_complete_checkpoint,
)
from stancekit.scoring import evaluate_model, predict_file
from stancekit.training import save_model_atomically, train

GOOD = {"id": "g1", "premise": "the council met on monday .", "hypothesis": "the council met .", "label": "support"}
GOOD2 = {"id": "g2", "premise": "the bridge is closed .", "hypothesis": "the bridge is open .", "label": "contradict"}


def jline(obj) -> str:
    return json.dumps(obj) + "\n"


def with_(**kw) -> dict:
    return {**GOOD, "id": "bad", **kw}


def without(key: str) -> dict:
    return {k: v for k, v in GOOD.items() if k != key} | {"id": "bad"}


# ---------------------------------------------------------------------------------------------- bad input
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


def write_case(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


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


# ---------------------------------------------------------------------------------------------- a stance model
@pytest.fixture(scope="module")
def stance_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """An untrained classifier with our labels (what from_pretrained accepts), saved like stancekit saves."""
    folder = tmp_path_factory.mktemp("stance-model")
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_model_dir, num_labels=3, id2label=dict(ID2LABEL), label2id=dict(LABEL2ID)
    )
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(folder)
    record_weights_hash(folder)
    return folder


def copy_model(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


PAIRS = [("the council met on monday .", "the council met ."), ("the bridge is closed .", "the bridge is open .")]


# ---------------------------------------------------------------------------------------------- predict input
def predict_cfg(model_dir: Path, inp: Path, out: Path, run_dir: Path, *extra: str):
    return compose_config(
        "predict",
        [
            f"model_dir={model_dir}",
            f"input={inp}",
            f"output={out}",
            f"paths.output_dir={run_dir}",
            "device=cpu",
            *extra,
        ],
    )


PREDICT_CASES = {
    # name: (bad line text, field, problem)
    "malformed_json": ('{"premise": "a",\n', None, "not valid JSON"),
    "missing_field": (jline({"premise": "a"}), "hypothesis", "missing field"),
    "null_value": (jline({"premise": None, "hypothesis": "b"}), "premise", "value is null"),
    "number_value": (jline({"premise": "a", "hypothesis": 7}), "hypothesis", "expected text, got int"),
    "empty_text": (jline({"premise": "  ", "hypothesis": "b"}), "premise", "empty text"),
    "duplicate_id": (
        jline({"id": 1, "premise": "a", "hypothesis": "b"}),
        "id",
        r"duplicate id '1' \(first on line 1\)",
    ),
}


@pytest.mark.parametrize("case", sorted(PREDICT_CASES))
def test_predict_input_errors_and_skips(stance_model_dir, tmp_path, case):
    bad, field, problem = PREDICT_CASES[case]
    first = jline({"id": 1, "premise": PAIRS[0][0], "hypothesis": PAIRS[0][1]})
    last = jline({"id": 3, "premise": PAIRS[1][0], "hypothesis": PAIRS[1][1]})
    inp = write_case(tmp_path, "in.jsonl", first + bad + last)
    out = tmp_path / "out.jsonl"
    with pytest.raises(DataError, match=problem) as err:
        predict_file(predict_cfg(stance_model_dir, inp, out, tmp_path / "run", "id_field=id"))
    assert (err.value.line, err.value.field) == (2, field)
    assert not out.exists(), "a failed run leaves no output that looks finished"

    n = predict_file(predict_cfg(stance_model_dir, inp, out, tmp_path / "run", "id_field=id", "on_error=skip"))
    assert n == 2 and [json.loads(r)["id"] for r in out.read_text().splitlines()] == [1, 3]
    skipped = [json.loads(r) for r in (tmp_path / "run" / SKIPPED_ROWS_FILE).read_text().splitlines()]
    assert [(s["line"], s["field"]) for s in skipped] == [(2, field)]


def test_predict_on_an_empty_file_is_an_error(stance_model_dir, tmp_path):
    inp = write_case(tmp_path, "in.jsonl", "\n")
    with pytest.raises(DataError, match="in.jsonl: empty file"):
        predict_file(predict_cfg(stance_model_dir, inp, tmp_path / "o.jsonl", tmp_path, "on_error=skip"))


def test_evaluate_with_skip_writes_the_side_file_and_reports_truncation(stance_model_dir, tmp_path):
    data = write_case(
        tmp_path,
        "test.jsonl",
        jline(GOOD) + jline(with_(label="agree")) + jline({**GOOD2, "premise": "the council met again . " * 40}),
    )
    cfg = compose_config(
        "evaluate",
        [
            f"model_dir={stance_model_dir}",
            "data=jsonl",
            f"data.test_file={data}",
            "data.on_error=skip",
            f"paths.output_dir={tmp_path / 'ev'}",
            "device=cpu",
            "max_length=32",
        ],
    )
    with pytest.warns(TruncationWarning, match="1 of 2 pairs are longer than 32 tokens"):
        metrics = evaluate_model(cfg)
    assert metrics["n"] == 2
    skipped = [json.loads(r) for r in (tmp_path / "ev" / SKIPPED_ROWS_FILE).read_text().splitlines()]
    assert skipped[0]["line"] == 2 and skipped[0]["field"] == "label" and "agree" in skipped[0]["raw"]
    assert "1 pairs were longer than 32 tokens" in (tmp_path / "ev" / "report.md").read_text()


# ---------------------------------------------------------------------------------------------- Python API
@pytest.mark.parametrize(
    "pairs,problem",
    [
        (None, "expected a list of"),
        ("just a string", "expected a list of"),
        (("premise", "hypothesis"), "expected a list of"),
        ([("a", "b"), ("a", None)], "pair 1, hypothesis: expected text, got NoneType"),
        ([(3, "b")], "pair 0, premise: expected text, got int"),
        ([("a", "b"), ("\n ", "b")], "pair 1, premise: empty text"),
        ([("a", "b", "c")], r"pair 0: expected \(premise, hypothesis\)"),
        ([{"premise": "a", "hypothesis": "b"}], r"pair 0: expected \(premise, hypothesis\)"),
    ],
)
def test_api_rejects_bad_pairs_naming_the_pair_and_field(stance_model_dir, pairs, problem):
    clf = StanceClassifier.from_pretrained(stance_model_dir, device="cpu")
    with pytest.raises(ValueError, match=problem):
        clf.predict(pairs)


def test_long_pairs_are_truncated_counted_and_warned_not_refused(stance_model_dir):
    clf = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", max_length=32)
    long_pair = ("the council met again on monday . " * 100, "the council met .")
    with pytest.warns(TruncationWarning, match="1 of 2 pairs are longer than 32 tokens"):
        labels = clf.predict([PAIRS[0], long_pair])
    assert len(labels) == 2
    assert count_over_length(clf.tokenizer, [PAIRS[0][0], long_pair[0]], [PAIRS[0][1], long_pair[1]], 32) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)
        clf.predict(PAIRS)  # nothing truncated, nothing said


# ---------------------------------------------------------------------------------------------- loading safety
def test_weights_hash_is_verified_on_load(stance_model_dir, tmp_path):
    folder = copy_model(stance_model_dir, tmp_path / "m")
    meta = read_metadata(folder)
    assert meta[WEIGHTS_KEY] == {"model.safetensors": sha256_file(folder / "model.safetensors")}
    StanceClassifier.from_pretrained(folder, device="cpu")  # verifies and loads

    weights = bytearray((folder / "model.safetensors").read_bytes())
    weights[-1] ^= 0xFF  # one flipped bit in the last tensor
    (folder / "model.safetensors").write_bytes(bytes(weights))
    with pytest.raises(WeightsIntegrityError, match=r"model.safetensors: SHA-256 .* does not match"):
        StanceClassifier.from_pretrained(folder, device="cpu")


def test_unlisted_or_missing_weight_files_are_refused(stance_model_dir, tmp_path):
    folder = copy_model(stance_model_dir, tmp_path / "m")
    shutil.copy(folder / "model.safetensors", folder / "extra.safetensors")
    with pytest.raises(WeightsIntegrityError, match="extra.safetensors: weights not listed"):
        StanceClassifier.from_pretrained(folder, device="cpu")
    (folder / "extra.safetensors").unlink()
    update_metadata(folder, **{WEIGHTS_KEY: {**read_metadata(folder)[WEIGHTS_KEY], "shard-2.safetensors": "00"}})
    with pytest.raises(WeightsIntegrityError, match="shard-2.safetensors: listed in stancekit.json but missing"):
        StanceClassifier.from_pretrained(folder, device="cpu")


def test_metadata_keys_are_merged_not_overwritten(stance_model_dir, tmp_path):
    folder = copy_model(stance_model_dir, tmp_path / "m")
    update_metadata(folder, temperature=1.7)
    meta = read_metadata(folder)
    assert meta["temperature"] == 1.7 and WEIGHTS_KEY in meta and "stancekit_version" in meta
    assert not list(folder.glob("*.tmp"))


def test_damaged_metadata_is_a_clear_error(stance_model_dir, tmp_path):
    folder = copy_model(stance_model_dir, tmp_path / "m")
    (folder / METADATA_FILE).write_text('{"weights_sha256": ')
    with pytest.raises(ValueError, match=r"stancekit.json: not valid JSON"):
        StanceClassifier.from_pretrained(folder, device="cpu")


def test_folder_without_metadata_still_loads(stance_model_dir, tmp_path):
    """Any classifier with our labels (no stancekit.json, e.g. made with plain transformers) is accepted."""
    folder = copy_model(stance_model_dir, tmp_path / "m")
    (folder / METADATA_FILE).unlink()
    assert len(StanceClassifier.from_pretrained(folder, device="cpu").predict(PAIRS)) == 2


def pickle_only(src: Path, dest: Path, scale: float = 1.0) -> Path:
    folder = copy_model(src, dest)
    state = {k: v * scale for k, v in load_file(folder / "model.safetensors").items()}
    torch.save(state, folder / "pytorch_model.bin")
    return folder


def test_pickle_only_checkpoint_is_refused_unless_allowed(stance_model_dir, tmp_path):
    folder = pickle_only(stance_model_dir, tmp_path / "m")
    (folder / "model.safetensors").unlink()
    (folder / METADATA_FILE).unlink()
    with pytest.raises(UnsafeModelError, match=r"only in pickle format \(pytorch_model.bin\).*allow_pickle=True"):
        StanceClassifier.from_pretrained(folder, device="cpu")
    clf = StanceClassifier.from_pretrained(folder, device="cpu", allow_pickle=True)
    reference = StanceClassifier.from_pretrained(stance_model_dir, device="cpu")
    assert clf.predict_proba(PAIRS) == pytest.approx(reference.predict_proba(PAIRS), abs=1e-6)


def test_safetensors_win_over_pickle_in_the_same_folder(stance_model_dir, tmp_path):
    folder = pickle_only(stance_model_dir, tmp_path / "m", scale=0.0)  # the pickle holds zeroed weights
    loaded = StanceClassifier.from_pretrained(folder, device="cpu")
    weights = load_file(folder / "model.safetensors")
    name = "classifier.weight"
    assert torch.equal(loaded.model.state_dict()[name], weights[name]) and weights[name].abs().sum() > 0


def custom_code_folder(src: Path, dest: Path, model_type: str) -> tuple[Path, Path]:
    """A model folder whose config points at shipped code that would leave a marker file if it ever ran."""
    folder = copy_model(src, dest)
    marker = dest.parent / f"{dest.name}-code-ran"
    (folder / "evil.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "from transformers import BertConfig\nclass EvilConfig(BertConfig):\n    model_type = 'evil'\n"
    )
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "evil.EvilConfig"}
    config["model_type"] = model_type
    (folder / "config.json").write_text(json.dumps(config))
    return folder, marker


def test_remote_code_never_runs_unless_trusted(stance_model_dir, tmp_path):
    # A known architecture with shipped code: transformers' own class is used and the shipped code ignored.
    folder, marker = custom_code_folder(stance_model_dir, tmp_path / "known", "bert")
    StanceClassifier.from_pretrained(folder, device="cpu")
    assert not marker.exists()
    # An architecture only the shipped code knows: refused, with the way to opt in.
    folder, marker = custom_code_folder(stance_model_dir, tmp_path / "unknown", "evil")
    with pytest.raises(ValueError, match="trust_remote_code=True"):
        StanceClassifier.from_pretrained(folder, device="cpu")
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------- a tiny run
@pytest.fixture(scope="module")
def skip_run(tiny_model_dir, tmp_path_factory):
    """A training run on the sample with two bad rows, one pair over the length limit, and on_error=skip."""
    tmp = tmp_path_factory.mktemp("skip-run")
    train_file = tmp / "train.jsonl"
    train_file.write_text(
        (SAMPLE_DIR / "train.jsonl").read_text()
        + jline({"id": "bad-1", "premise": "p", "hypothesis": "h", "label": "agree"})
        + jline({"id": "train-0001", "premise": "p", "hypothesis": "h", "label": "neutral"})
        + jline({"id": "long-1", "premise": "the council met again . " * 20, "hypothesis": "h", "label": "neutral"})
    )
    run_dir = tmp / "run"
    overrides = tiny_train_overrides(
        tiny_model_dir,
        run_dir,
        [
            "data=jsonl",
            f"data.train_file={train_file}",
            f"data.validation_file={SAMPLE_DIR / 'validation.jsonl'}",
            f"data.test_file={SAMPLE_DIR / 'test.jsonl'}",
            "data.id_column=id",
            "data.on_error=skip",
            "train.max_steps=4",
        ],
    )
    train(compose_config("train", overrides))
    return run_dir


def test_training_with_skip_writes_skipped_rows_and_counts_them(skip_run):
    rows = [json.loads(r) for r in (skip_run / SKIPPED_ROWS_FILE).read_text().splitlines()]
    assert [(r["line"], r["field"]) for r in rows] == [(241, "label"), (242, "id")]
    assert "unknown label 'agree'" in rows[0]["problem"] and "duplicate id 'train-0001'" in rows[1]["problem"]
    summary = json.loads((skip_run / "train_summary.json").read_text())
    assert summary["skipped_rows"] == 2
    assert "| train | jsonl | 241 |" in (skip_run / "data_summary.md").read_text()


def test_training_counts_truncated_pairs(skip_run):
    summary = json.loads((skip_run / "train_summary.json").read_text())
    # One training pair is longer than the tiny run's 64 tokens: counted and reported, but kept (truncated).
    assert summary["truncated_pairs"] == {"train": 1, "validation": 0, "jsonl": 0}
    assert summary["train_examples"] == 241
    assert "Pairs longer than model.max_length=64 tokens" in (skip_run / "data_summary.md").read_text()


def test_saved_model_carries_its_hash_and_still_loads_with_plain_transformers(skip_run):
    model_dir = skip_run / "model"
    meta = read_metadata(model_dir)
    assert meta[WEIGHTS_KEY]["model.safetensors"] == sha256_file(model_dir / "model.safetensors")
    assert StanceClassifier.from_pretrained(model_dir, device="cpu").predict(PAIRS)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    assert model.config.id2label[0] == "support"
    assert not (skip_run / "model.tmp").exists() and not (skip_run / "model.old").exists()


# ---------------------------------------------------------------------------------------------- crash safety
def bare_trainer(model_dir: Path, tmp_path: Path) -> tuple[Trainer, object]:
    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    args = TrainingArguments(output_dir=str(tmp_path / "ck"), use_cpu=True, report_to="none")
    return Trainer(model=model, args=args), AutoTokenizer.from_pretrained(model_dir)


def test_a_crash_while_saving_never_leaves_a_complete_looking_model(stance_model_dir, tmp_path, monkeypatch):
    trainer, tokenizer = bare_trainer(stance_model_dir, tmp_path)
    model_dir = tmp_path / "run" / "model"
    model_dir.parent.mkdir()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(tokenizer, "save_pretrained", crash)
    with pytest.raises(OSError, match="disk full"):
        save_model_atomically(trainer, tokenizer, model_dir)
    assert not model_dir.exists(), "the weights were written, but no model/ folder may appear"
    monkeypatch.undo()

    save_model_atomically(trainer, tokenizer, model_dir, metadata={"temperature": 1.5})
    first = read_metadata(model_dir)
    assert first["temperature"] == 1.5 and WEIGHTS_KEY in first
    # A second save that dies half-way leaves the first model whole and verifiable.
    monkeypatch.setattr(tokenizer, "save_pretrained", crash)
    with pytest.raises(OSError):
        save_model_atomically(trainer, tokenizer, model_dir)
    assert read_metadata(model_dir) == first
    StanceClassifier.from_pretrained(model_dir, device="cpu")


def fake_checkpoint(folder: Path, complete: bool = True, state: str = "{}") -> Path:
    folder.mkdir(parents=True)
    for name in ("model.safetensors", "optimizer.pt", "scheduler.pt"):
        (folder / name).write_bytes(b"x")
    if complete:
        (folder / "trainer_state.json").write_text(state)
    return folder


def test_resume_passes_over_a_half_written_checkpoint(tmp_path):
    assert last_complete_checkpoint(tmp_path / "none") is None
    good = fake_checkpoint(tmp_path / "checkpoint-10")
    fake_checkpoint(tmp_path / "checkpoint-20", complete=False)  # killed before trainer_state.json
    fake_checkpoint(tmp_path / "checkpoint-30", state='{"global_st')  # killed while writing it
    fake_checkpoint(tmp_path / "checkpoint-5")
    (tmp_path / "checkpoint-40").mkdir()  # killed right after mkdir
    assert last_complete_checkpoint(tmp_path) == str(good)
    assert not is_complete_checkpoint(tmp_path / "checkpoint-20")


TINY_RUN = [
    "model.max_length=64",
    "train=smoke",
    "train.device=cpu",
    "train.disable_tqdm=true",
    "train.max_steps=30",
    "train.eval_steps=5",
    "train.logging_steps=5",
    "train.save_total_limit=10",
    "train.early_stopping_patience=0",
    "train.seed=7",
]


def script(run_dir: Path, model_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "scripts/train.py",
        f"hydra.run.dir={run_dir}",
        f"model.name_or_path={model_dir}",
        *TINY_RUN,
        *extra,
    ]


@pytest.mark.slow
def test_sigkill_then_resume_ends_like_an_uninterrupted_run(tiny_model_dir, tmp_path):
    """A real process, a real SIGKILL after its first checkpoint, then train.resume=true in the same folder."""
    ref = subprocess.run(
        script(tmp_path / "ref", tiny_model_dir), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600
    )
    assert ref.returncode == 0, ref.stderr[-3000:]

    run_dir = tmp_path / "crash"
    log = (tmp_path / "crash.log").open("w")
    proc = subprocess.Popen(script(run_dir, tiny_model_dir), cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    first = run_dir / "checkpoints" / "checkpoint-5"
    deadline = time.time() + 300
    while not is_complete_checkpoint(first) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "crash.log").read_text()[-3000:]
    steps = sorted(int(p.name.split("-")[1]) for p in (run_dir / "checkpoints").glob("checkpoint-*"))
    assert steps and steps[-1] < 30, "the kill came after the run had finished"
    assert not (run_dir / "model").exists() and not (run_dir / "metrics.json").exists()
    last_good = last_complete_checkpoint(run_dir / "checkpoints")
    assert last_good is not None
    # As if the kill had also hit a later checkpoint half-way: resume must pass over it.
    (run_dir / "checkpoints" / "checkpoint-25").mkdir(exist_ok=True)
    (run_dir / "checkpoints" / "checkpoint-25" / "model.safetensors").write_bytes(b"half")

    resumed = subprocess.run(
        script(run_dir, tiny_model_dir, "train.resume=true"),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log_text = (run_dir / "train.log").read_text()
    assert re.findall(r"resume: (\S+)$", log_text, flags=re.M) == [last_good]
    assert "checkpoint-25 is incomplete" in log_text

    def outcome(folder: Path) -> tuple:
        metrics = json.loads((folder / "metrics.json").read_text())
        summary = json.loads((folder / "train_summary.json").read_text())
        preds = [json.loads(r) for r in (folder / "predictions.jsonl").read_text().splitlines()]
        return metrics, summary, preds

    ref_metrics, ref_summary, ref_preds = outcome(tmp_path / "ref")
    metrics, summary, preds = outcome(run_dir)
    assert summary["global_step"] == ref_summary["global_step"] == 30
    assert metrics["confusion_matrix"] == ref_metrics["confusion_matrix"]
    assert metrics["accuracy"] == ref_metrics["accuracy"] and metrics["macro_f1"] == ref_metrics["macro_f1"]
    assert summary["validation"]["eval_macro_f1"] == pytest.approx(ref_summary["validation"]["eval_macro_f1"], abs=1e-9)
    for a, b in zip(preds, ref_preds):
        assert a["prediction"] == b["prediction"]
        assert a["probabilities"] == pytest.approx(b["probabilities"], abs=1e-5)
    StanceClassifier.from_pretrained(run_dir / "model", device="cpu")  # complete, hash verified
