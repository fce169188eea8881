"""The seven sets added for experiment=stance_mix, on their real files (counts from each SOURCE.md) and on
small files in their layouts: every label mapped explicitly, bad rows named by file, line and field."""

from __future__ import annotations

import json
import zipfile
from collections import Counter

import pytest

from stancekit.config import PROJECT_ROOT
from stancekit.data import DataError, build_splits, format_summary, load_source
from stancekit.data.readers import iter_json_array
from stancekit.labels import LABELS
from tests.data.test_adapters import NLI_MIX_TESTS, data_cfg, needs_shared
from tests.helpers import SHARED_ROOT, jline


def label_counts(pairs) -> dict[str, int]:
    counts = Counter(LABELS[p["label"]] for p in pairs)
    return {name: counts[name] for name in ("support", "contradict", "neutral")}


def source(name: str, split: str, index: int = 0):
    return list(getattr(data_cfg(name), split))[index]


# (data config, split, source index) -> (pairs, support / contradict / neutral) as each SOURCE.md counts them.
REAL_COUNTS = {
    ("lingnli", "train", 0): (44983, (14995, 14993, 14995)),
    ("xnli", "test", 0): (2490, (830, 830, 830)),
    ("cad_nli", "train", 0): (1666, (562, 550, 554)),
    ("cad_nli", "train", 1): (6664, (2208, 2232, 2224)),
    ("conjnli", "train", 0): (15000, (5820, 2423, 6757)),
    ("conjnli", "test", 0): (623, (204, 138, 281)),
    ("taxinli", "test", 0): (3912, (1421, 1392, 1099)),
    # The dev-matched genres: 3,959 copies of mnli/ rows (1,451 / 1,406 / 1,102) + 2,200 MNLI train rows.
    ("taxinli", "train", 0): (6159, (1451 + 623, 1406 + 577, 1102 + 1000)),
    ("check_covid", "train", 0): (1068, (359, 358, 351)),
    ("check_covid", "test", 0): (207, (69, 70, 68)),
}


@needs_shared
@pytest.mark.parametrize("key", list(REAL_COUNTS), ids=lambda k: f"{k[0]}-{k[1]}-{k[2]}")
def test_real_files_give_the_counts_of_their_source_md(key):
    name, split, index = key
    read = load_source(source(name, split, index), SHARED_ROOT)
    n, (support, contradict, neutral) = REAL_COUNTS[key]
    assert len(read.pairs) == n
    assert label_counts(read.pairs) == {"support": support, "contradict": contradict, "neutral": neutral}


@needs_shared
def test_averitec_reads_the_release_zip_in_place_and_skips_conflicting_evidence():
    read = load_source(source("averitec", "train"), SHARED_ROOT)
    # 849 Supported / 1,742 Refuted / 282 Not Enough Evidence; 195 conflicting skipped; one claim is empty.
    assert read.label_skipped == 195
    assert [(row["line"], row["field"]) for row in read.bad_rows] == [(104781, "claim")]
    assert len(read.pairs) == 849 + 1742 + 282 - 1
    counts = label_counts(read.pairs)
    assert 848 <= counts["support"] <= 849 and 1741 <= counts["contradict"] <= 1742 and counts["neutral"] >= 281
    first = read.pairs[0]
    assert first["hypothesis"].startswith("Hunter Biden had no experience in Ukraine")
    assert "Did Hunter Biden have any experience in the energy sector" in first["premise"]
    assert not (SHARED_ROOT / "averitec" / "AVeriTeC-main").exists()  # nothing unpacked


@needs_shared
def test_check_covid_premise_is_the_named_sentences_in_abstract_order():
    read = load_source(source("check_covid", "train"), SHARED_ROOT)
    corpus = {}
    for line in (SHARED_ROOT / "check_covid" / "corpus.json").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        corpus[record["cord_id"]] = record["abstract"]
    rows = [json.loads(line) for line in (SHARED_ROOT / source("check_covid", "train").files[0]).open()]
    by_id = {p["id"]: p for p in read.pairs}
    for row in rows[:50]:
        indices = sorted({item["sent_index"] for item in row["evidence_set"]})
        assert by_id[row["id"]]["premise"] == " ".join(corpus[row["cord_id"]][i].strip() for i in indices)


@needs_shared
def test_quoted_and_unquoted_tsv_files_keep_their_quotes_right():
    cad = load_source(source("cad_nli", "train", 0), SHARED_ROOT).pairs
    assert any('"TheFaceShop"' in p["premise"] for p in cad)  # CSV-quoted, doubled quotes undone
    assert not any(p["premise"].startswith('"') and p["premise"].endswith('"') for p in cad)
    conj = load_source(source("conjnli", "train"), SHARED_ROOT).pairs
    assert any(p["premise"].startswith('"Softer, Softest"') for p in conj)  # no quoting: a leading quote is text


@needs_shared
def test_taxinli_never_trains_on_mnli_dev_matched_or_mismatched_rows():
    splits = build_splits(data_cfg("taxinli"), SHARED_ROOT)
    trained = splits.summary["train"]["taxinli_train"]
    assert trained["leaked"] == 3959  # the copies of mnli/ rows (held_out), found despite quoting differences
    test_pairs = {(p["premise"], p["hypothesis"]) for p in splits.test["mnli_mm"]}
    assert len(splits.test["mnli_mm"]) == 3912
    for pair in list(splits.train) + list(splits.validation):
        assert (pair["premise"], pair["hypothesis"]) not in test_pairs
    assert len(splits.train) + len(splits.validation) == 2200


@needs_shared
def test_stance_mix_builds_every_source_with_caps_weights_and_the_guard():
    cfg = data_cfg("stance_mix")
    splits = build_splits(cfg, SHARED_ROOT)
    trained, validation = splits.summary["train"], splits.summary["validation"]
    assert set(trained) == {src.name for src in cfg.train}
    assert set(splits.test) == NLI_MIX_TESTS | {"mnli_mm"}
    assert {"conjnli_dev", "check_covid_dev", "lingnli (held back)"} <= set(validation)
    assert "conjnli_train (held back)" not in validation and "check_covid_train (held back)" not in validation
    assert trained["lingnli"]["n"] + validation["lingnli (held back)"]["n"] == 24000  # the cap
    assert trained["taxinli_train"]["duplicates"] == 3959  # repeats of mnli_dev_matched, trained once
    assert trained["averitec_train"]["weight"] == 2 and trained["averitec_train"]["skipped"] == 195
    assert sum(stats["leaked"] for stats in trained.values()) > 0  # SICK train/test and SNLI dev/test overlap
    assert len(splits.train) == sum(stats["n"] for stats in trained.values())
    assert len(splits.validation) == sum(stats["n"] for stats in validation.values())
    # docs/data.md shows this very table: it must not drift from the configs.
    page = (PROJECT_ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    start = page.index("-->\n", page.index("<!-- stance_mix summary")) + 4
    assert page[start : page.index("<!-- end stance_mix summary")].strip() == format_summary(splits.summary)


def test_check_covid_bad_rows_name_file_line_and_field(tmp_path):
    corpus = tmp_path / "corpus.json"
    corpus.write_text(jline({"cord_id": "a1", "title": "t", "abstract": ["First.", "Second.", "Third."]}))
    claims = tmp_path / "claims.json"
    rows = [
        {
            "id": "x_0",
            "claim": "c0",
            "cord_id": "a1",
            "label": "SUPPORT",
            "evidence_set": [{"sent_index": 2}, {"sent_index": 0}],
        },
        {"id": "x_1", "claim": "c1", "cord_id": "a1", "label": "MAYBE", "evidence_set": [{"sent_index": 1}]},
    ]
    claims.write_text("".join(jline(r) for r in rows))
    src = source("check_covid", "train")
    src.files, src.bodies_file = [str(claims)], str(corpus)
    with pytest.raises(DataError, match=r"claims\.json, line 2, field 'label'.*MAYBE"):
        load_source(src, tmp_path)
    rows[1].update(label="REFUTE", evidence_set=[{"sent_index": 3}])
    claims.write_text("".join(jline(r) for r in rows))
    with pytest.raises(DataError, match=r"claims\.json, line 2, field 'evidence_set'.*3 sentences"):
        load_source(src, tmp_path)
    src.on_error = "skip"
    read = load_source(src, tmp_path)
    assert [p["premise"] for p in read.pairs] == ["First. Third."]  # abstract order, not the listed order
    assert len(read.bad_rows) == 1


def write_averitec_zip(path, claims):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("AVeriTeC-main/data/train.json", json.dumps(claims, indent=4))
        archive.writestr("AVeriTeC-main/data/dev.json", "[]")


def test_averitec_premise_and_label_errors_in_a_zip(tmp_path):
    qa = [
        {"question": "Q1?", "answers": [{"answer": "No", "answer_type": "Boolean", "boolean_explanation": "Never."}]},
        {"question": "Q2?", "answers": [{"answer": "No answer could be found.", "answer_type": "Unanswerable"}]},
    ]
    claims = [
        {"claim": "C one", "label": "Refuted", "questions": qa, "justification": "It is false."},
        {"claim": "C two", "label": "Conflicting Evidence/Cherrypicking", "questions": qa, "justification": "j"},
        {"claim": "C three", "label": "Mostly True", "questions": qa, "justification": "j"},
    ]
    archive = tmp_path / "release.zip"
    write_averitec_zip(archive, claims)
    src = source("averitec", "train")
    src.files, src.on_error = [str(archive)], "raise"
    # Each claim object starts on its own line of the pretty-printed array; the error names that line.
    starts = [line for line, _ in iter_json_array(archive, src.member)]
    with pytest.raises(
        DataError, match=rf"release\.zip!AVeriTeC-main/data/train\.json, line {starts[2]}, field 'label'"
    ):
        load_source(src, tmp_path)
    write_averitec_zip(archive, claims[:2])
    read = load_source(src, tmp_path)
    assert read.label_skipped == 1
    assert [p["premise"] for p in read.pairs] == ["Q1? No. Never. Q2? No answer could be found."]
    assert "false" not in read.pairs[0]["premise"]  # the justification states the verdict: never used
    src.member = "AVeriTeC-main/data/missing.json"
    with pytest.raises(DataError, match="no member 'AVeriTeC-main/data/missing.json'"):
        load_source(src, tmp_path)


def test_json_array_line_numbers_point_at_each_object(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[\n    {"a": 1},\n\n    {"a": 2,\n     "b": 3},\n    {"a": 4}\n]\n')
    assert [(line, record["a"]) for line, record in iter_json_array(path)] == [(2, 1), (4, 2), (6, 4)]
    path.write_text('{"a": 1}')
    with pytest.raises(DataError, match="expected a JSON array"):
        list(iter_json_array(path))
