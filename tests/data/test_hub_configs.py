"""The hub data configs, read offline from small fixtures in each hub data set's own layout.

Each fixture is a folder ``data/<split>-00000-of-00001.parquet`` with the hub set's columns, dtypes and
ClassLabel (saved by ``datasets`` the way the hub's parquet files carry them), six rows a split including
an unlabelled ``-1`` row. ``datasets.load_dataset(folder, split=...)`` reads such a folder as it reads the
hub repository, so pointing a source's ``hub_id`` at it runs the real reading and mapping code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from stancekit.data import build_splits, load_source
from stancekit.labels import LABELS
from tests.helpers import FIXTURE_ROOT, compose_config

CLASS_NAMES = ["entailment", "neutral", "contradiction"]  # the hub sets' ClassLabel order: 0, 1, 2
# The label of each fixture row, and what it must become (None: the -1 row, skipped).
ROW_LABELS = [0, 1, 2, -1, 2, 0]
EXPECTED = ["support", "neutral", "contradict", None, "contradict", "support"]


def _features(hub_id: str):
    from datasets import ClassLabel, Features, Value

    label = ClassLabel(names=CLASS_NAMES)
    text = Value("string")
    columns = {
        # https://huggingface.co/datasets/stanfordnlp/snli
        "stanfordnlp/snli": {"premise": text, "hypothesis": text, "label": label},
        # https://huggingface.co/datasets/nyu-mll/multi_nli
        "nyu-mll/multi_nli": {
            "promptID": Value("int32"),
            "pairID": text,
            "premise": text,
            "premise_binary_parse": text,
            "premise_parse": text,
            "hypothesis": text,
            "hypothesis_binary_parse": text,
            "hypothesis_parse": text,
            "genre": text,
            "label": label,
        },
        # https://huggingface.co/datasets/facebook/anli
        "facebook/anli": {"uid": text, "premise": text, "hypothesis": text, "label": label, "reason": text},
        # https://huggingface.co/datasets/pietrolesci/nli_fever (premise and hypothesis swapped, see its config)
        "pietrolesci/nli_fever": {
            "cid": Value("int64"),
            "fid": text,
            "premise": text,
            "hypothesis": text,
            "verifiable": Value("int64"),
            "fever_gold_label": text,
            "label": label,
        },
    }[hub_id]
    return Features(columns)


def evidence(hub_id: str, split: str, i: int) -> str:
    """Texts differ between sets and splits, so that no fixture pair repeats or leaks into another split."""
    return f"The evidence sentence {i} of {hub_id} {split} mentions a bridge."


def claim(hub_id: str, split: str, i: int) -> str:
    return f"A claim about the bridge, {hub_id} {split} {i}."


def _row(hub_id: str, split: str, i: int, label: int) -> dict:
    """One row as the hub set stores it: evidence and claim in its own columns."""
    e, c = evidence(hub_id, split, i), claim(hub_id, split, i)
    if hub_id == "stanfordnlp/snli":
        return {"premise": e, "hypothesis": c, "label": label}
    if hub_id == "nyu-mll/multi_nli":
        return {
            "promptID": 100 + i,
            "pairID": f"{100 + i}{'enc'[label] if label >= 0 else 'x'}",
            "premise": e,
            "premise_binary_parse": f"( {e} )",
            "premise_parse": f"(ROOT {e})",
            "hypothesis": c,
            "hypothesis_binary_parse": f"( {c} )",
            "hypothesis_parse": f"(ROOT {c})",
            "genre": "government",
            "label": label,
        }
    if hub_id == "facebook/anli":
        return {"uid": f"{split}-uid-{i}", "premise": e, "hypothesis": c, "label": label, "reason": ""}
    fever_label = {0: "SUPPORTS", 1: "NOT ENOUGH INFO", 2: "REFUTES", -1: ""}[label]
    # The mirror's `premise` column holds the claim, its `hypothesis` column the evidence.
    return {
        "cid": 1000 + i,
        "fid": f"{split}-{i}",
        "premise": c,
        "hypothesis": e,
        "verifiable": int(label != 1),
        "fever_gold_label": fever_label,
        "label": label,
    }


def write_hub_fixture(folder: Path, hub_id: str, split: str) -> Path:
    """``folder/data/<split>-00000-of-00001.parquet`` with the six fixture rows of that split."""
    from datasets import Dataset

    rows = [_row(hub_id, split, i, label) for i, label in enumerate(ROW_LABELS)]
    path = folder / "data" / f"{split}-00000-of-00001.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    Dataset.from_list(rows, features=_features(hub_id)).to_parquet(str(path))
    return path


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """No network, and a dataset cache of the test's own."""
    import datasets

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets-cache")
    return tmp_path / "hub"


def hub_sources(data):
    return [(split, src) for split in ("train", "validation", "test") for src in data[split] if src.hub_id]


def point_at_fixtures(data, hub_root: Path) -> dict[str, str]:
    """Write a fixture for every hub split the config reads and point its sources there.

    Returns {source name: the hub id it had}. A local folder has no named configs, so hub_config goes.
    """
    original = {}
    for _, src in hub_sources(data):
        folder = hub_root / src.hub_id.replace("/", "__")
        parquet = folder / "data" / f"{src.hub_split}-00000-of-00001.parquet"
        if not parquet.exists():
            write_hub_fixture(folder, src.hub_id, src.hub_split)
        original[src.name] = src.hub_id
        src.hub_id = str(folder)
        src.hub_config = None
    return original


def data_cfg(name: str):
    return compose_config("train", [f"data={name}", "paths.output_dir=/tmp/unused"]).data


HUB_CONFIGS = {
    "snli_hub": {"stanfordnlp/snli": {"train", "validation", "test"}},
    "mnli_hub": {"nyu-mll/multi_nli": {"train", "validation_matched", "validation_mismatched"}},
    "anli_hub": {"facebook/anli": {f"{part}_r{r}" for part in ("train", "dev", "test") for r in (1, 2, 3)}},
    "fever_nli_hub": {"pietrolesci/nli_fever": {"train", "dev"}},
}


@pytest.mark.parametrize("name", sorted(HUB_CONFIGS))
def test_hub_config_reads_the_hub_sets_splits(name):
    data = data_cfg(name)
    read = {}
    for _, src in hub_sources(data):
        read.setdefault(src.hub_id, set()).add(src.hub_split)
    assert read == HUB_CONFIGS[name]
    for _, src in hub_sources(data):
        assert src.hub_config is None  # each of these sets has a single config, so none is named
        assert dict(src.label_map) == {"0": "support", "1": "neutral", "2": "contradict"}
        assert list(src.skip_labels) == ["-1"]


@pytest.mark.parametrize("name", sorted(HUB_CONFIGS))
def test_hub_config_maps_each_row_and_skips_the_unlabelled_one(name, offline_hub):
    data = data_cfg(name)
    original = point_at_fixtures(data, offline_hub)
    for split, src in hub_sources(data):
        result = load_source(src, FIXTURE_ROOT)
        assert result.label_skipped == 1, f"{src.name}: the -1 row is skipped"
        kept = [i for i, label in enumerate(EXPECTED) if label is not None]
        assert [LABELS[p["label"]] for p in result.pairs] == [EXPECTED[i] for i in kept], src.name
        # Evidence is the premise, the claim the hypothesis, whichever columns the hub set keeps them in.
        hub_id = original[src.name]
        assert [p["premise"] for p in result.pairs] == [evidence(hub_id, src.hub_split, i) for i in kept]
        assert [p["hypothesis"] for p in result.pairs] == [claim(hub_id, src.hub_split, i) for i in kept]
        assert {p["source"] for p in result.pairs} == {src.name}
        if src.id_column:
            ids = [p["id"] for p in result.pairs]
            assert len(set(ids)) == len(ids) and not any(i.startswith(f"{src.name}:") for i in ids)
        assert original[src.name] in HUB_CONFIGS[name], split


@pytest.mark.parametrize("name", sorted(HUB_CONFIGS))
def test_hub_config_builds_its_splits(name, offline_hub):
    data = data_cfg(name)
    point_at_fixtures(data, offline_hub)
    splits = build_splits(data, FIXTURE_ROOT)
    n_train = 5 * len(data.train)
    assert len(splits.train) + (0 if data.validation else len(splits.validation)) == n_train
    if data.validation:
        assert len(splits.validation) == 5 * len(data.validation)
    assert set(splits.test) == {src.name for src in data.test}
    assert all(len(test) == 5 for test in splits.test.values())


# ------------------------------------------------------------------------------------- the full recipe
def full_recipe(overrides: list[str] | None = None):
    return compose_config("train", ["experiment=nli_full_hub", "paths.output_dir=/tmp/unused", *(overrides or [])])


# What a source reads, as (data set, split), so that a local copy and a hub copy of one split are equal.
LOCAL_SPLITS = {
    ("snli", "dev"): ("snli", "dev"),
    ("snli", "test"): ("snli", "test"),
    ("mnli/mnli_development_set_number_of_correct_responses.txt", None): ("mnli", "dev_matched"),
    **{(f"anli/R{r}/{part}.jsonl", None): ("anli", f"{part}_r{r}") for r in (1, 2, 3) for part in ("dev", "test")},
    ("sick/SICK.txt", "TRAIN"): ("sick", "train"),
    ("sick/SICK.txt", "TRIAL"): ("sick", "dev"),
    ("sick/SICK.txt", "TEST"): ("sick", "test"),
    ("fever_symmetric/v0.2/fever_symmetric_test.jsonl", None): ("fever_symmetric", "test"),
}
HUB_SETS = {
    "stanfordnlp/snli": "snli",
    "nyu-mll/multi_nli": "mnli",
    "facebook/anli": "anli",
    "pietrolesci/nli_fever": "fever_nli",
}
HUB_SPLITS = {"validation": "dev", "validation_matched": "dev_matched", "validation_mismatched": "dev_mismatched"}


def what_it_reads(src) -> tuple[str, str]:
    if src.hub_id:
        return HUB_SETS[src.hub_id], HUB_SPLITS.get(src.hub_split, src.hub_split)
    (path,) = src.files
    return LOCAL_SPLITS[(path, src.split)]


def test_full_recipe_composes_with_its_model_and_gpu_settings():
    cfg = full_recipe()
    OmegaConf.to_container(cfg, resolve=True)
    assert cfg.tags == ["nli_full_hub"] and cfg.data.name == "nli_full_hub"
    assert cfg.model.name_or_path == "microsoft/deberta-v3-base"
    assert cfg.train.precision == "auto"  # bf16 on GPUs that have it; see configs/model/deberta_v3_base.yaml
    assert cfg.train.batch_size * cfg.train.gradient_accumulation_steps == 32
    # The documented command, and the other base model on the same data.
    cfg = full_recipe(["model=deberta_v3_base", "train.device=cuda"])
    assert cfg.model.name_or_path == "microsoft/deberta-v3-base" and cfg.train.device == "cuda"
    assert full_recipe(["model=mpnet"]).model.name_or_path == "packaged:all-mpnet-base-v2"


def test_deberta_model_option_composes():
    cfg = compose_config("train", ["model=deberta_v3_base", "paths.output_dir=/tmp/unused"])
    assert cfg.model.name_or_path == "microsoft/deberta-v3-base"
    assert cfg.model.trust_remote_code is False and cfg.model.max_length == 256


def test_full_recipe_trains_on_no_split_it_evaluates_and_on_no_dev_or_test_split():
    data = full_recipe().data
    train = {src.name: what_it_reads(src) for src in data.train}
    evaluated = {src.name: what_it_reads(src) for src in [*data.validation, *data.test]}
    assert not set(train.values()) & set(evaluated.values())
    names = [src.name for src in [*data.train, *data.validation, *data.test]]
    assert len(names) == len(set(names))
    # Hub sets train on their training splits only; SICK's trial split is the one dev split trained on,
    # and SICK is evaluated on its test split alone.
    for name, (dataset, split) in train.items():
        assert split.startswith("train") or (dataset, split) == ("sick", "dev"), name
    assert ("sick", "dev") not in evaluated.values()
    # nli_mix's dev-derived training sources are this recipe's validation sets, never its training data.
    mix = data_cfg("nli_mix")
    dev_derived = {what_it_reads(src) for src in mix.train if what_it_reads(src)[1].startswith("dev")}
    assert dev_derived - {("sick", "dev")} <= {what_it_reads(src) for src in data.validation}
    assert not dev_derived - {("sick", "dev")} & set(train.values())
    # FEVER-Symmetric is built from FEVER's dev claims: FEVER-NLI's dev split is neither trained nor validated on.
    assert ("fever_nli", "dev") not in {*train.values(), *evaluated.values()}


def test_full_recipe_covers_every_hub_training_set_and_the_local_ones_not_on_the_hub():
    data = full_recipe().data
    assert {what_it_reads(src) for src in data.train} == {
        ("snli", "train"),
        ("mnli", "train"),
        ("anli", "train_r1"),
        ("anli", "train_r2"),
        ("anli", "train_r3"),
        ("fever_nli", "train"),
        ("sick", "train"),
        ("sick", "dev"),
    }
    assert {what_it_reads(src) for src in data.test} == {
        ("snli", "test"),
        ("mnli", "dev_mismatched"),
        ("anli", "test_r1"),
        ("anli", "test_r2"),
        ("anli", "test_r3"),
        ("sick", "test"),
        ("fever_symmetric", "test"),
    }
    # Each hub source is mapped as its own hub config maps it.
    own = {}
    for name in HUB_CONFIGS:
        for _, src in hub_sources(data_cfg(name)):
            own[(src.hub_id, src.hub_split)] = src
    for _, src in hub_sources(data):
        mine = own[(src.hub_id, src.hub_split)]
        for key in ("premise_column", "hypothesis_column", "label_map", "skip_labels"):
            assert src[key] == mine[key], (src.name, key)


def test_full_recipe_builds_offline_from_fixtures(offline_hub):
    """Hub sources from the parquet fixtures, SICK and FEVER-Symmetric from the local fixture files."""
    data = full_recipe().data
    point_at_fixtures(data, offline_hub)
    splits = build_splits(data, FIXTURE_ROOT)
    assert set(splits.test) == {src.name for src in data.test}
    sources = set(splits.train["source"])
    assert {"snli_train", "mnli_train", "anli_r3_train", "fever_nli_train", "sick_train", "sick_trial"} <= sources
    assert set(splits.validation["source"]) == {src.name for src in data.validation}
    fever = [row for row in splits.train if row["source"] == "fever_nli_train"]
    assert fever and all(row["premise"].startswith("The evidence sentence") for row in fever)


def test_deberta_tokenizer_loads_from_its_sentencepiece_model_with_the_extra(tmp_path):
    """The `deberta` extra is enough: a DeBERTa-v2/v3 tokenizer folder holding only spm.model (as
    microsoft/deberta-v3-base does) becomes a fast tokenizer with sentencepiece and protobuf installed."""
    spm = pytest.importorskip("sentencepiece", reason="pip install 'stancekit[deberta]'")
    pytest.importorskip("google.protobuf")
    import json

    from transformers import AutoTokenizer

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["the bridge is closed", "the council met on monday", "a man reads"] * 30))
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(tmp_path / "spm"),
        vocab_size=30,
        hard_vocab_limit=False,
        model_type="unigram",
        pad_id=0,
        unk_id=1,
        bos_id=2,
        eos_id=3,
        pad_piece="[PAD]",
        unk_piece="[UNK]",
        bos_piece="[CLS]",
        eos_piece="[SEP]",
        minloglevel=2,
    )
    folder = tmp_path / "tokenizer"
    folder.mkdir()
    (tmp_path / "spm.model").rename(folder / "spm.model")
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "DebertaV2Tokenizer"}))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert type(tokenizer).__name__ == "DebertaV2Tokenizer" and tokenizer.is_fast
    ids = tokenizer("the bridge is closed", "a man reads")["input_ids"]
    assert ids[0] == tokenizer.cls_token_id and ids.count(tokenizer.sep_token_id) == 2
