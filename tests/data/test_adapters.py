"""Every adapter maps its own labels explicitly; fixtures in the published layouts and the real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stancekit.config import SourceConfig
from stancekit.data import DataError, build_splits, load_source
from stancekit.labels import LABELS
from tests.helpers import FIXTURE_ROOT, SHARED_ROOT, compose_config


def read(src, root):
    """(pairs, rows dropped by skip_labels) of one source."""
    result = load_source(src, root)
    return result.pairs, result.label_skipped


needs_shared = pytest.mark.skipif(not (SHARED_ROOT / "snli").exists(), reason="../shared/data not present")


NLI_MIX_TESTS = {"snli_test", "sick_test", "anli_r1_test", "anli_r2_test", "anli_r3_test", "fever_symmetric_v2_test"}


def data_cfg(name: str):
    return compose_config("train", [f"data={name}", "paths.output_dir=/tmp/unused"]).data


FIXTURE_CASES = {
    "snli": (
        "train",
        [
            ("A person is reading .", "support"),
            ("The man is asleep in bed .", "contradict"),
            ("The man is waiting for a bus .", "neutral"),
        ],
    ),
    "mnli": (
        "train",
        [
            ("The budget was approved.", "support"),
            ("The council rejected the budget.", "contradict"),
            ("The mayor proposed the budget.", "neutral"),
        ],
    ),
    "anli": (
        "test",
        [
            ("The river is long.", "support"),
            ("The river is short.", "contradict"),
            ("The river is polluted.", "neutral"),
        ],
    ),
    "sick": ("test", [("A woman is cutting a vegetable", "support"), ("A man is slicing an onion", "contradict")]),
    "fever_symmetric": ("test", [("Lumen is a French film .", "support"), ("Lumen is a German film .", "contradict")]),
    "fnc1": (
        "test",
        [
            ("Bridge to reopen in May", "support"),
            ("Bridge will stay closed all year", "contradict"),
            ("Bridge reopening date discussed", "neutral"),
            ("Bridge to reopen in May", "neutral"),
        ],
    ),
    "arc": (
        "test",
        [
            ("Bridge to reopen in May", "support"),
            ("Bridge will stay closed all year", "contradict"),
            ("Bridge reopening date discussed", "neutral"),
            ("Bridge to reopen in May", "neutral"),
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(FIXTURE_CASES))
def test_adapter_on_fixture(name):
    split, expected = FIXTURE_CASES[name]
    cfg = data_cfg(name)
    # Read the split's sources directly: fixtures are too small for a validation hold-back.
    rows = [pair for src in getattr(cfg, split) for pair in read(src, FIXTURE_ROOT)[0]]
    got = [(p["hypothesis"], LABELS[p["label"]]) for p in rows[: len(expected)]]
    assert got == expected


def test_snli_skips_pairs_without_gold_label_and_counts_them():
    src = data_cfg("snli").train[0]
    pairs, skipped = read(src, FIXTURE_ROOT)
    assert skipped == 1 and len(pairs) == 3


def test_fnc1_body_is_premise_and_multiline_bodies_survive():
    src = data_cfg("fnc1").test[0]
    pairs, _ = read(src, FIXTURE_ROOT)
    assert (
        pairs[0]["premise"].startswith("The ministry said") and 'Officials "expect" no delays.' in pairs[0]["premise"]
    )


def test_fnc1_train_and_holdout_are_split_by_body_id():
    cfg = data_cfg("fnc1")
    train = read(cfg.train[0], FIXTURE_ROOT)[0]
    val, val_skipped = read(cfg.validation[0], FIXTURE_ROOT)
    assert {p["premise"][:10] for p in train}.isdisjoint({p["premise"][:10] for p in val})
    # Training data is the related pairs (the stance stage); the hold-out body's unrelated pair is dropped.
    assert len(train) == 3 and len(val) == 1 and val_skipped == 1
    assert val[0]["hypothesis"] == "Comet spotted over northern hills" and LABELS[val[0]["label"]] == "support"


def test_arc_trains_on_the_related_pairs_only():
    pairs, skipped = read(data_cfg("arc").train[0], FIXTURE_ROOT)
    assert skipped == 1 and [LABELS[p["label"]] for p in pairs] == ["support", "contradict", "neutral"]


def test_unrelated_mapping_is_configurable():
    src = data_cfg("fnc1").test[0]
    src.skip_labels = ["unrelated"]
    pairs, skipped = read(src, FIXTURE_ROOT)
    assert skipped == 1 and len(pairs) == 3


def test_sick_split_column_selects_rows():
    cfg = data_cfg("sick")
    sizes = [len(read(src, FIXTURE_ROOT)[0]) for src in (cfg.train[0], cfg.validation[0], cfg.test[0])]
    assert sizes == [2, 1, 2]


REAL_CASES = {
    # name: {split: (n, first labels)}
    "snli": {"test": ({"snli_test": 9824}, None)},
    "mnli": {"train": ({"mnli_dev_matched": 9815}, ["neutral", "contradict"])},
    "anli": {"test": ({"anli_r1_test": 1000, "anli_r2_test": 1000, "anli_r3_test": 1200}, ["support", "support"])},
    "sick": {"test": ({"sick_test": 4906}, None)},
    "fever_symmetric": {"test": ({"fever_symmetric_v2_test": 712}, ["support"])},
    "fnc1": {"test": ({"fnc1_competition_test": 25413}, ["neutral", "neutral"])},
    "arc": {"test": ({"arc_test": 3559}, ["neutral", "neutral"])},
}


@needs_shared
@pytest.mark.parametrize("name", sorted(REAL_CASES))
def test_adapter_on_real_files(name):
    for split, (sizes, first_labels) in REAL_CASES[name].items():
        cfg = data_cfg(name)
        for i, src in enumerate(getattr(cfg, split)):
            pairs, _ = read(src, SHARED_ROOT)
            assert len(pairs) == sizes[src.name], src.name
            assert all(p["premise"] and p["hypothesis"] for p in pairs)
            if first_labels and i == 0:  # the first rows of the first source, read off the file by hand
                assert [LABELS[p["label"]] for p in pairs[: len(first_labels)]] == first_labels


@needs_shared
def test_real_snli_dev_first_rows_and_label_balance():
    src = data_cfg("snli").train[0]
    pairs, skipped = read(src, SHARED_ROOT)
    assert [LABELS[p["label"]] for p in pairs[:3]] == ["neutral", "support", "contradict"]
    assert pairs[1]["hypothesis"] == "Two woman are holding packages ."
    assert len(pairs) == 9842 and skipped == 0


@needs_shared
def test_real_sick_label_distribution_matches_source_md():
    cfg = data_cfg("sick")
    pairs, _ = read(cfg.train[0], SHARED_ROOT)
    counts = {lab: sum(LABELS[p["label"]] == lab for p in pairs) for lab in LABELS}
    assert counts == {"neutral": 2524, "support": 1274, "contradict": 641}


@needs_shared
def test_nli_mix_builds_train_validation_and_six_test_sets():
    cfg = data_cfg("nli_mix")
    splits = build_splits(cfg, SHARED_ROOT)
    trained = splits.summary["train"]
    repeats = sum(stats["duplicates"] for stats in trained.values())
    assert repeats == 3  # SNLI dev and MNLI dev-matched repeat a few pairs word for word
    # SNLI dev pairs on SNLI test premises, SICK train/trial pairs equal to SICK test pairs (normalised).
    assert {name: stats["leaked"] for name, stats in trained.items() if stats["leaked"]} == {
        "snli_dev": 6,
        "sick_train": 3,
        "sick_trial": 1,
    }
    read = 9842 + 9815 + 4439 + 495 + 1000 + 1000 + 1200
    assert len(splits.train) + len(splits.validation) == read - repeats - 10
    assert set(splits.test) == NLI_MIX_TESTS
    held = [stats["n"] for name, stats in splits.summary["validation"].items() if name.endswith("(held back)")]
    assert len(held) == 7 and sum(held) == len(splits.validation)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def jsonl_source(path: Path, **kw) -> SourceConfig:
    return SourceConfig(adapter="jsonl", files=[str(path)], **kw)


def test_unknown_label_names_file_line_and_field(tmp_path):
    path = write(
        tmp_path / "x.jsonl",
        json.dumps({"premise": "a", "hypothesis": "b", "label": "support"})
        + "\n"
        + json.dumps({"premise": "a", "hypothesis": "b", "label": "agree"})
        + "\n",
    )
    with pytest.raises(DataError) as err:
        read(jsonl_source(path), tmp_path)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 2, "label")
    assert "unknown label 'agree'" in str(err.value) and "x.jsonl, line 2, field 'label'" in str(err.value)


def test_unknown_label_in_real_format(tmp_path):
    root = tmp_path
    (root / "anli" / "R1").mkdir(parents=True)
    write(
        root / "anli" / "R1" / "test.jsonl",
        json.dumps({"uid": "1", "context": "c", "hypothesis": "h", "label": "x"}) + "\n",
    )
    with pytest.raises(DataError, match=r"test.jsonl, line 1, field 'label': unknown label 'x'"):
        read(data_cfg("anli").test[0], root)


def test_missing_column_names_file_line_and_field(tmp_path):
    path = write(tmp_path / "x.csv", "premise,claim,label\nevidence,claim text,support\n")
    with pytest.raises(DataError) as err:
        read(SourceConfig(adapter="csv", files=[str(path)]), tmp_path)
    assert (err.value.line, err.value.field) == (2, "hypothesis")
    assert "missing column" in str(err.value)


def test_missing_column_in_sick(tmp_path):
    (tmp_path / "sick").mkdir()
    write(tmp_path / "sick" / "SICK.txt", "pair_ID\tsentence_A\tentailment_label\tSemEval_set\n1\ta\tNEUTRAL\tTEST\n")
    with pytest.raises(DataError, match=r"SICK.txt, line 2, field 'sentence_B': missing column"):
        read(data_cfg("sick").test[0], tmp_path)


def test_malformed_json_line(tmp_path):
    path = write(tmp_path / "x.jsonl", '{"premise": "a", "hypothesis": "b", "label": "support"}\n{"premise": \n')
    with pytest.raises(DataError, match=r"x.jsonl, line 2: not valid JSON"):
        read(jsonl_source(path), tmp_path)


@pytest.mark.parametrize(
    "value,problem", [("", "empty text"), ("   ", "empty text"), (None, "null"), (3, "expected text")]
)
def test_bad_text_values(tmp_path, value, problem):
    path = write(tmp_path / "x.jsonl", json.dumps({"premise": value, "hypothesis": "b", "label": "neutral"}) + "\n")
    with pytest.raises(DataError, match=rf"line 1, field 'premise': .*{problem}"):
        read(jsonl_source(path), tmp_path)


def test_snli_files_of_different_length(tmp_path):
    folder = tmp_path / "snli"
    folder.mkdir()
    write(folder / "s1.dev", "a\nb\n")
    write(folder / "s2.dev", "c\n")
    write(folder / "labels.dev", "neutral\nneutral\n")
    with pytest.raises(DataError, match=r"s2.dev, line 2: file ends early"):
        read(data_cfg("snli").train[0], tmp_path)


def test_fnc_unknown_body_id(tmp_path):
    (tmp_path / "fnc1").mkdir()
    write(tmp_path / "fnc1" / "competition_test_bodies.csv", "Body ID,articleBody\n1,text\n")
    write(tmp_path / "fnc1" / "competition_test_stances.csv", "Headline,Body ID,Stance\nh,2,agree\n")
    with pytest.raises(DataError, match=r"line 2, field 'Body ID': body id '2' not in"):
        read(data_cfg("fnc1").test[0], tmp_path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match=r"nope.jsonl: file not found"):
        read(jsonl_source(tmp_path / "nope.jsonl"), tmp_path)


def test_label_map_to_unknown_label_fails_early(tmp_path):
    path = write(tmp_path / "x.jsonl", "")
    with pytest.raises(ValueError, match="not one of"):
        read(jsonl_source(path, label_map={"yes": "agree"}), tmp_path)


def test_generic_jsonl_with_own_columns_and_label_map(tmp_path):
    path = write(tmp_path / "x.jsonl", json.dumps({"ev": "e", "cl": "c", "y": "REFUTES"}) + "\n")
    src = jsonl_source(
        path,
        premise_column="ev",
        hypothesis_column="cl",
        label_column="y",
        label_map={"SUPPORTS": "support", "REFUTES": "contradict"},
    )
    pairs, _ = read(src, tmp_path)
    assert (pairs[0]["premise"], pairs[0]["hypothesis"], LABELS[pairs[0]["label"]]) == ("e", "c", "contradict")


def test_mixture_caps_each_source_and_reports_balance(tmp_path):
    rows = [{"premise": f"p{i}", "hypothesis": f"h{i}", "label": LABELS[i % 3]} for i in range(30)]
    a = write(tmp_path / "a.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    other = [{**r, "hypothesis": r["hypothesis"] + "b"} for r in rows[:9]]
    b = write(tmp_path / "b.jsonl", "\n".join(json.dumps(r) for r in other) + "\n")
    cfg = data_cfg("jsonl")
    cfg.train = [jsonl_source(a, name="a", max_examples=12), jsonl_source(b, name="b")]
    cfg.validation_fraction = 0.25
    splits = build_splits(cfg, tmp_path, ("train", "validation"))
    trained, held = splits.summary["train"], splits.summary["validation"]
    assert trained["a"]["n"] + held["a (held back)"]["n"] == 12
    assert trained["b"]["n"] + held["b (held back)"]["n"] == 9
    assert len(splits.train) + len(splits.validation) == 21
    assert sum(trained["b"]["labels"].values()) == trained["b"]["n"]
