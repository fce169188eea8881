"""scripts/predict.py's library side: streaming, input order, bad lines named or skipped, no partial output,
mode=document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stancekit import StanceClassifier
from stancekit.data import (
    SKIPPED_ROWS_FILE,
    DataError,
)
from stancekit.data.sentences import split_sentences
from stancekit.labels import LABELS
from stancekit.runs import predict_documents_file, predict_file
from tests.helpers import (
    CLAIM,
    compose_config,
    jline,
    long_article,
    run_script,
    shuffled_sample_pairs,
    temporary_files,
    write_case,
)

TWO_PAIRS = [("the council met on monday .", "the council met ."), ("the bridge is closed .", "the bridge is open .")]


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
    first = jline({"id": 1, "premise": TWO_PAIRS[0][0], "hypothesis": TWO_PAIRS[0][1]})
    last = jline({"id": 3, "premise": TWO_PAIRS[1][0], "hypothesis": TWO_PAIRS[1][1]})
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


PAIRS = shuffled_sample_pairs()


@pytest.mark.parametrize("backend", ["torch", "onnx-int8"])
def test_predict_file_streams_every_line_in_order(stance_model_dir, tmp_path, monkeypatch, backend):
    rows = [{"id": i, "premise": p, "hypothesis": h, "extra": [i]} for i, (p, h) in enumerate(PAIRS[:23])]
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    cfg = compose_config(
        "predict",
        [
            f"model_dir={stance_model_dir}",
            f"input={inp}",
            f"output={out}",
            f"paths.output_dir={tmp_path}",
            "device=cpu",
            f"backend={backend}",
        ],
    )
    calls = []
    original = StanceClassifier.predict_proba

    def recording(self, pairs, *args, **kwargs):
        calls.append(len(pairs))
        return original(self, pairs, *args, **kwargs)

    monkeypatch.setattr(StanceClassifier, "predict_proba", recording)
    assert predict_file(cfg, chunk_size=5) == 23
    assert calls == [5, 5, 5, 5, 3]  # chunk by chunk, never the whole file at once
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in written] == list(range(23))
    assert [r["extra"] for r in written] == [[i] for i in range(23)]
    monkeypatch.setattr(StanceClassifier, "predict_proba", original)
    expected = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", backend=backend).predict(PAIRS[:23])
    assert [r["prediction"] for r in written] == expected
    assert not temporary_files(tmp_path)


def test_predict_file_bad_line_leaves_no_output(stance_model_dir, tmp_path):
    inp = tmp_path / "in.jsonl"
    good = [json.dumps({"premise": p, "hypothesis": h}) for p, h in PAIRS[:12]]
    inp.write_text("\n".join(good) + '\n{"premise": "only a premise"}\n')
    out = tmp_path / "out.jsonl"
    cfg = compose_config(
        "predict",
        [f"model_dir={stance_model_dir}", f"input={inp}", f"output={out}", f"paths.output_dir={tmp_path}"],
    )
    with pytest.raises(ValueError, match=r"line 13.*hypothesis"):
        predict_file(cfg, chunk_size=4)  # chunks were already written when line 13 is read
    assert not out.exists() and not temporary_files(tmp_path)


def test_predict_mode_document_cli(stance_model_dir, tmp_path):
    inp = tmp_path / "articles.jsonl"
    rows = [
        {"id": 1, "claim": CLAIM, "document": long_article()},
        {"id": 2, "headline": "Bridge to reopen in May", "body": "The ministry said the bridge will reopen in May."},
    ]
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out" / "labelled.jsonl"
    result = run_script(
        "predict",
        "mode=document",
        f"model_dir={stance_model_dir}",
        f"input={inp}",
        f"output={out}",
        "device=cpu",
        "document.evidence_k=1",
        f"hydra.run.dir={tmp_path / 'p'}",
    )
    assert "labelled 2 documents" in result.stdout
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [w["id"] for w in written] == [1, 2] and not temporary_files(out.parent)
    for row, w in zip(rows, written):
        document = row.get("document") or row["body"]
        assert w["prediction"] in LABELS and set(w["probabilities"]) == set(LABELS)
        assert len(w["evidence"]) <= 2 and w["n_sentences"] == len(split_sentences(document))
        for e in w["evidence"]:
            assert document[e["start"] : e["end"]] == e["text"] and e["label"] in ("support", "contradict")


def test_predict_mode_document_errors_name_file_line_and_field(stance_model_dir, tmp_path):
    inp = tmp_path / "bad.jsonl"
    inp.write_text(json.dumps({"claim": "A", "document": "B."}) + "\n" + json.dumps({"document": "No claim."}) + "\n")
    overrides = [f"model_dir={stance_model_dir}", f"input={inp}", f"output={tmp_path / 'o.jsonl'}"]
    cfg = compose_config("predict", [*overrides, "mode=document", f"paths.output_dir={tmp_path}"])
    with pytest.raises(DataError) as err:
        predict_documents_file(cfg)
    assert err.value.line == 2 and err.value.field == "claim" and str(inp) in str(err.value)
    assert "'headline'" in str(err.value)
    inp.write_text(json.dumps({"headline": "A", "body": ""}) + "\n")
    with pytest.raises(DataError, match="line 1, field 'body'"):
        predict_documents_file(cfg)
    assert not (tmp_path / "o.jsonl").exists()
