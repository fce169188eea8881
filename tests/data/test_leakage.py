"""The leakage guard, de-duplication, source weights and per-source hold-back of build_splits."""

from __future__ import annotations

import pytest

from stancekit.config import SourceConfig
from stancekit.data import LeakError, build_splits, format_summary, normalise
from tests.data.test_adapters import data_cfg
from tests.helpers import jline


def jsonl(tmp_path, name: str, rows: list[tuple[str, str, str]], **options) -> SourceConfig:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(jline({"premise": p, "hypothesis": h, "label": y}) for p, h, y in rows))
    return SourceConfig(adapter="jsonl", name=name, files=[str(path)], **options)


def filler(tag: str, n: int) -> list[tuple[str, str, str]]:
    return [(f"{tag} premise {i}", f"{tag} claim {i}", ("support", "contradict", "neutral")[i % 3]) for i in range(n)]


def mix(tmp_path, train, test=(), validation=(), **data):
    cfg = data_cfg("jsonl")
    cfg.train, cfg.test, cfg.validation = list(train), list(test), list(validation)
    for key, value in data.items():
        setattr(cfg, key, value)
    return cfg


def test_normalise_ignores_case_punctuation_spacing_and_mojibake():
    assert normalise('A "man"  sleeps.') == normalise("a man sleeps") == "a man sleeps"
    assert normalise("R??publique") == normalise("République") == "r publique"


def test_training_copy_of_a_test_pair_is_dropped_and_counted(tmp_path):
    test = jsonl(tmp_path, "t", [("The cat sat.", "A cat sits.", "support")])
    train = jsonl(tmp_path, "a", [("the cat sat", 'A  "cat" sits', "neutral"), *filler("a", 12)])
    splits = build_splits(mix(tmp_path, [train], [test], validation_fraction=0.25), tmp_path)
    assert splits.summary["train"]["a"]["leaked"] == 1
    kept = list(splits.train) + list(splits.validation)
    assert len(kept) == 12 and all(p["premise"] != "the cat sat" for p in kept)
    assert "| leaks |" in format_summary(splits.summary)


def test_premise_sensitive_test_sets_keep_their_premises_out_of_training(tmp_path):
    rows = [("A dog runs on the beach.", "An animal moves.", "support")]
    test = jsonl(tmp_path, "snli_like", rows, premise_sensitive=True)
    train = jsonl(tmp_path, "a", [("A dog runs on the beach.", "The dog sleeps.", "contradict"), *filler("a", 15)])
    splits = build_splits(mix(tmp_path, [train], [test], validation_fraction=0.2), tmp_path)
    assert splits.summary["train"]["a"]["leaked"] == 1
    plain = jsonl(tmp_path, "plain", rows)  # the same premise under a test set that is not flagged: kept
    splits = build_splits(mix(tmp_path, [train], [plain], validation_fraction=0.2), tmp_path)
    assert splits.summary["train"]["a"]["leaked"] == 0


def test_on_leak_error_stops_the_run_naming_pair_and_test_set(tmp_path):
    test = jsonl(tmp_path, "t", [("The cat sat.", "A cat sits.", "support")])
    train = jsonl(tmp_path, "a", [*filler("a", 5), ("The cat sat.", "A cat sits.", "support")])
    with pytest.raises(LeakError, match=r"train pair 'a:6' of source 'a' equals a pair of test set 't'"):
        build_splits(mix(tmp_path, [train], [test], on_leak="error"), tmp_path)
    with pytest.raises(ValueError, match="on_leak must be one of"):
        build_splits(mix(tmp_path, [train], [test], on_leak="warn"), tmp_path)


def test_validation_pairs_are_guarded_and_held_out_sets_count_like_tests(tmp_path):
    test = jsonl(tmp_path, "t", [("p t", "h t", "support")])
    elsewhere = jsonl(tmp_path, "elsewhere", [("p e", "h e", "neutral")])
    validation = jsonl(tmp_path, "v", [("P T", "H T", "support"), *filler("v", 4)])
    train = jsonl(tmp_path, "a", [("p e", "h e", "neutral"), *filler("a", 6)])
    cfg = mix(tmp_path, [train], [test], [validation], held_out=[elsewhere])
    splits = build_splits(cfg, tmp_path)
    assert splits.summary["validation"]["v"]["leaked"] == 1 and len(splits.validation) == 4
    assert splits.summary["train"]["a"]["leaked"] == 1 and len(splits.train) == 6


def test_repeats_are_dropped_once_first_source_first_and_against_validation(tmp_path):
    validation = jsonl(tmp_path, "v", [("shared v", "claim v", "support"), *filler("v", 3)])
    first = jsonl(
        tmp_path,
        "a",
        [("Same text", "same claim", "support"), ("same text", "same claim.", "neutral"), *filler("a", 6)],
    )
    second = jsonl(
        tmp_path, "b", [("same  text", "Same claim", "contradict"), ("shared v", "claim v", "support"), *filler("b", 6)]
    )
    splits = build_splits(mix(tmp_path, [first, second], validation=[validation]), tmp_path)
    trained = splits.summary["train"]
    assert (trained["a"]["duplicates"], trained["b"]["duplicates"]) == (1, 2)
    assert [p["label"] for p in splits.train if normalise(p["premise"]) == "same text"] == [0]  # a's first row
    no_dedupe = build_splits(mix(tmp_path, [first, second], validation=[validation], dedupe=False), tmp_path)
    assert len(no_dedupe.train) == len(splits.train) + 3


def test_weights_resample_each_source_and_appear_in_the_summary(tmp_path):
    big = jsonl(tmp_path, "big", filler("big", 40), weight=0.5)
    small = jsonl(tmp_path, "small", filler("small", 10), weight=2.5)
    splits = build_splits(mix(tmp_path, [big, small], validation=[jsonl(tmp_path, "v", filler("v", 3))]), tmp_path)
    trained = splits.summary["train"]
    assert (trained["big"]["n"], trained["small"]["n"]) == (20, 25)
    sources = [p["source"] for p in splits.train]
    assert sources.count("small") == 25 and len({p["id"] for p in splits.train if p["source"] == "small"}) == 10
    assert "| 2.5 |" in format_summary(splits.summary) and "| 0.5 |" in format_summary(splits.summary)


def test_hold_back_always_adds_a_slice_of_each_giving_source_to_the_validation_files(tmp_path):
    dev = jsonl(tmp_path, "dev", filler("dev", 6))
    giver = jsonl(tmp_path, "giver", filler("g", 30))
    keeper = jsonl(tmp_path, "keeper", filler("k", 30), hold_back=False)
    cfg = mix(tmp_path, [giver, keeper], validation=[dev], validation_fraction=0.2)
    assert len(build_splits(cfg, tmp_path).validation) == 6  # auto: the validation file is enough
    cfg.hold_back = "always"
    splits = build_splits(cfg, tmp_path)
    validation = splits.summary["validation"]
    assert validation["dev"]["n"] == 6 and validation["giver (held back)"]["n"] == 6
    assert "keeper (held back)" not in validation and splits.summary["train"]["keeper"]["n"] == 30
    assert len(splits.train) == 24 + 30 and len(splits.validation) == 12


def test_a_capped_test_set_is_cut_but_guards_with_all_its_pairs(tmp_path):
    test = jsonl(tmp_path, "t", filler("t", 30), max_examples=5)
    train = jsonl(tmp_path, "a", [*filler("t", 30)[:10], *filler("a", 30)])
    splits = build_splits(mix(tmp_path, [train], [test], validation_fraction=0.2), tmp_path)
    assert len(splits.test["t"]) == 5 and splits.summary["test"]["t"]["n"] == 5
    assert splits.summary["train"]["a"]["leaked"] == 10
