"""Every config composes against its schema; unknown keys and wrong types fail at composition."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, ValidationError

from stancekit.config import (
    CONFIG_DIR,
    BaselineRunConfig,
    CalibrateRunConfig,
    DataConfig,
    DocumentConfig,
    DownloadRunConfig,
    EvaluateRunConfig,
    ModelConfig,
    PathsConfig,
    PredictRunConfig,
    ServeRunConfig,
    SourceConfig,
    TrainConfig,
    TrainRunConfig,
    TuneDocumentRunConfig,
)
from stancekit.data import READERS
from stancekit.document.fnc import gate_threshold
from tests.helpers import compose_config

CONFIGS = Path(CONFIG_DIR)


def group_options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIGS / group).glob("*.yaml"))


@pytest.mark.parametrize("data", group_options("data"))
def test_every_data_config_composes(data):
    cfg = compose_config("train", [f"data={data}", "paths.output_dir=/tmp/x"])
    assert cfg.data.name == data
    # Resolving catches broken interpolations too.
    OmegaConf.to_container(cfg.data, resolve=True)
    for split in ("train", "validation", "test", "held_out"):
        for src in cfg.data[split]:
            assert src.adapter in READERS
            assert src.label_map, f"{data}/{split}/{src.name}: every built-in source maps its labels explicitly"


@pytest.mark.parametrize("experiment", group_options("experiment"))
def test_every_experiment_composes(experiment):
    cfg = compose_config("train", [f"experiment={experiment}", "paths.output_dir=/tmp/x"])
    OmegaConf.to_container(cfg, resolve=True)
    assert experiment in cfg.tags


def test_arc_mpnet_is_fnc1_mpnet_on_arc_from_its_model():
    """An experiment built on one that overrides /data overrides it again: the outer override wins."""
    cfg = compose_config("train", ["experiment=arc_mpnet", "paths.output_dir=/tmp/x"])
    assert cfg.data.name == "arc" and cfg.data.train[0].skip_labels == ["unrelated"]
    assert cfg.data.document_input == "selected_sentences" and cfg.data.document_sentences == 3
    assert cfg.model.max_length == 256 and cfg.train.class_weights == "balanced" and not cfg.run_test
    assert cfg.train.epochs == 2 and cfg.train.eval_steps == 50
    assert cfg.model.name_or_path.endswith("outputs/fnc1_mpnet/model")


@pytest.mark.parametrize("data,threshold", [("fnc1", 0.07), ("arc", 0.025), ("fnc1_arc", 0.07)])
def test_each_fnc_corpus_carries_its_relatedness_threshold(data, threshold):
    """The lexical gate's threshold is the evaluated corpus's (ARC's chosen on its training stances) unless
    fnc.relatedness_threshold sets one."""
    overrides = ["model_dir=/m", f"data={data}", "mode=document"]
    cfg = compose_config("evaluate", overrides)
    assert cfg.fnc.relatedness_threshold is None and gate_threshold(cfg.fnc, cfg.data) == threshold
    cfg = compose_config("evaluate", [*overrides, "fnc.relatedness_threshold=0.05"])
    assert gate_threshold(cfg.fnc, cfg.data) == 0.05


def test_fnc1_arc_mpnet_trains_on_both_corpora_and_validates_on_fnc1s_hold_out():
    cfg = compose_config("train", ["experiment=fnc1_arc_mpnet", "paths.output_dir=/tmp/x"])
    assert [s.name for s in cfg.data.train] == ["fnc1_train", "arc_train"]
    assert [s.hold_back for s in cfg.data.train] == [False, True] and cfg.data.hold_back == "always"
    assert [s.name for s in cfg.data.validation] == ["fnc1_holdout"]
    assert all(s.skip_labels == ["unrelated"] for s in [*cfg.data.train, *cfg.data.validation])
    assert cfg.data.document_input == "selected_sentences" and cfg.model.max_length == 256
    assert cfg.train.class_weights == "balanced" and cfg.train.epochs == 1 and not cfg.run_test


@pytest.mark.parametrize("group,schema", [("model", ModelConfig), ("train", TrainConfig), ("paths", PathsConfig)])
def test_every_group_option_composes(group, schema):
    for option in group_options(group):
        overrides = [f"{group}={option}", "paths.output_dir=/tmp/x"]
        if option == "hub":
            overrides.append("model.name_or_path=some/hub-model")
        cfg = compose_config("train", overrides)
        OmegaConf.merge(OmegaConf.structured(schema), cfg[group])


def test_every_yaml_file_is_validated_by_a_test():
    """torchtune's rule: a YAML that no test composes can rot. Each group's files are enumerated above."""
    groups = {p.parent.name for p in CONFIGS.glob("*/*.yaml")}
    # document/ is composed with evaluate and predict below; hparams_search/ and hydra/launcher/ (a level
    # deeper) in tests/integration/test_sweep_runs.py.
    assert groups == {"data", "model", "train", "experiment", "paths", "document", "hparams_search"}
    scripts = {"train", "evaluate", "predict", "baseline", "calibrate", "download_data", "tune_document", "serve"}
    assert {p.stem for p in CONFIGS.glob("*.yaml")} == scripts


def test_default_train_config():
    cfg = compose_config("train", ["paths.output_dir=/tmp/x"])
    assert cfg.data.name == "sample" and cfg.model.name_or_path == "packaged:all-MiniLM-L6-v2"
    assert Path(cfg.data.train_file).exists() and Path(cfg.data.test_file).exists()
    assert cfg.train.group_by_length is True


@pytest.mark.parametrize(
    "name,overrides",
    [
        ("evaluate", ["model_dir=/m", "data=jsonl", "data.test_file=t.jsonl", "paths.output_dir=/tmp/x"]),
        ("predict", ["model_dir=/m", "input=i.jsonl", "output=o.jsonl", "paths.output_dir=/tmp/x"]),
        ("evaluate", ["model_dir=/m", "data=none", "sets=[snli,sick]", "suite=capabilities", "paths.output_dir=/x"]),
        ("baseline", ["baseline=hypothesis_only", "data=nli_mix", "paths.output_dir=/tmp/x"]),
        ("tune_document", ["model_dir=/m", "window_sizes=[[1],[1,2,3]]", "paths.output_dir=/tmp/x"]),
        ("serve", ["model_dir=/m", "port=0", "limits.max_pairs=8", "document.threshold=0.7", "paths.output_dir=/x"]),
    ],
)
def test_script_configs_compose(name, overrides):
    cfg = compose_config(name, overrides)
    OmegaConf.to_container(cfg, resolve=True)


@pytest.mark.parametrize("override", ["train.learning_rat=1e-4", "model.nam=x", "data.test_files=x", "bogus=1"])
def test_unknown_keys_fail(override):
    with pytest.raises((ConfigCompositionException, ConfigKeyError)):
        compose_config("train", [override, "paths.output_dir=/tmp/x"])


def test_unknown_key_in_a_data_source_fails():
    with pytest.raises((ConfigCompositionException, ConfigKeyError)):
        compose_config("train", ["data=snli", "data.train.0.colour=red", "paths.output_dir=/tmp/x"])


def test_wrong_type_fails():
    with pytest.raises((ConfigCompositionException, ValidationError)):
        compose_config("train", ["train.batch_size=many", "paths.output_dir=/tmp/x"])


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x", "tain_file": "a.jsonl"},
        {"name": "x", "train": [{"adapter": "jsonl", "colour": "red"}]},
    ],
)
def test_unknown_key_in_a_yaml_file_fails(bad):
    """A typo inside a config file (not only on the command line) is caught by the schema."""
    with pytest.raises(ConfigKeyError):
        OmegaConf.merge(OmegaConf.structured(DataConfig), OmegaConf.create(bad))


def test_data_root_from_environment(monkeypatch):
    monkeypatch.setenv("STANCEKIT_DATA_ROOT", "/data/nli")
    cfg = compose_config("train", ["paths.output_dir=/tmp/x"])
    assert cfg.paths.data_root == "/data/nli"


def test_quick_start_recipe_is_the_default_and_can_be_dropped():
    cfg = compose_config("train", ["paths.output_dir=/tmp/x"])
    assert cfg.tags == ["sample"] and cfg.train.epochs == 20
    cfg = compose_config("train", ["~experiment", "data=snli", "paths.output_dir=/tmp/x"])
    assert cfg.tags == [] and cfg.train.epochs == 3 and cfg.data.name == "snli"


# ---------------------------------------------------------------------------------------------- one home
GROUP_SCHEMAS = {
    "data": DataConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "document": DocumentConfig,
    "paths": PathsConfig,
}
SCRIPT_SCHEMAS = {
    "train": TrainRunConfig,
    "evaluate": EvaluateRunConfig,
    "predict": PredictRunConfig,
    "calibrate": CalibrateRunConfig,
    "baseline": BaselineRunConfig,
    "download_data": DownloadRunConfig,
    "tune_document": TuneDocumentRunConfig,
    "serve": ServeRunConfig,
}


def repeated_defaults(values: dict, schema: type, where: str, inherited: dict | None = None) -> list[str]:
    """Keys of a YAML file's ``values`` whose value is the schema's own default (or an unknown key).

    ``inherited``: what the file's parent experiments set (an experiment built on another); a schema default
    that undoes a parent's value is what the file changes, not a second home of the default.
    """
    hints = typing.get_type_hints(schema)
    defaults = OmegaConf.to_container(OmegaConf.structured(schema), resolve=False)
    inherited = inherited or {}
    found = []
    for key, value in values.items():
        if key in ("defaults", "hydra"):
            continue
        if key not in defaults:
            found.append(f"{where}.{key} (not in {schema.__name__})")
        elif dataclasses.is_dataclass(hints[key]) and isinstance(value, dict):
            found += repeated_defaults(value, hints[key], f"{where}.{key}", inherited.get(key))
        elif schema is DataConfig and key in ("train", "validation", "test"):
            for i, src in enumerate(value):
                found += repeated_defaults(src, SourceConfig, f"{where}.{key}[{i}]")
        elif value == defaults[key] and inherited.get(key, defaults[key]) == defaults[key]:
            found.append(f"{where}.{key}: {value!r}")
    return found


def parent_experiments(path: Path) -> dict:
    """The values an experiment file inherits from the experiments its defaults list names (recursively)."""
    values = OmegaConf.to_container(OmegaConf.load(path), resolve=False) or {}
    merged = OmegaConf.create()
    for entry in values.get("defaults", []):
        if isinstance(entry, str) and entry != "_self_":
            parent = path.parent / f"{entry}.yaml"
            own = {k: v for k, v in OmegaConf.to_container(OmegaConf.load(parent)).items() if k != "defaults"}
            merged = OmegaConf.merge(merged, parent_experiments(parent), own)
    return OmegaConf.to_container(merged, resolve=False)


def yaml_files() -> list[tuple[Path, type]]:
    files = [(CONFIGS / f"{name}.yaml", schema) for name, schema in SCRIPT_SCHEMAS.items()]
    files += [(p, schema) for group, schema in GROUP_SCHEMAS.items() for p in sorted((CONFIGS / group).glob("*.yaml"))]
    # Experiments are global packages: their keys are paths from the root of the training config.
    files += [(p, TrainRunConfig) for p in sorted((CONFIGS / "experiment").glob("*.yaml"))]
    return files


@pytest.mark.parametrize("path,schema", yaml_files(), ids=lambda x: x.stem if isinstance(x, Path) else "")
def test_yaml_files_say_only_what_differs_from_the_schema(path, schema):
    """Every default has one home, the dataclass schema: a YAML key that repeats it is a second home."""
    values = OmegaConf.to_container(OmegaConf.load(path), resolve=False) or {}
    where = f"{path.parent.name}/{path.name}" if path.parent != CONFIGS else path.name
    inherited = parent_experiments(path) if path.parent.name == "experiment" else {}
    assert not repeated_defaults(values, schema, where, inherited), "repeats a schema default"


def test_the_repeat_check_can_fail():
    assert repeated_defaults({"batch_size": 16, "epochs": 2}, TrainConfig, "t") == ["t.batch_size: 16"]
    sources = {"name": "x", "train": [{"adapter": "csv", "premise_column": "premise"}]}
    assert repeated_defaults(sources, DataConfig, "d") == ["d.train[0].premise_column: 'premise'"]
    # A default that undoes what a parent experiment sets is a change; one the parent leaves alone is not.
    run = {"train": {"epochs": 3.0, "batch_size": 16}}
    assert repeated_defaults(run, TrainRunConfig, "e", {"train": {"epochs": 1}}) == ["e.train.batch_size: 16"]
    assert repeated_defaults(run, TrainRunConfig, "e", {"train": {}}) == [
        "e.train.epochs: 3.0",
        "e.train.batch_size: 16",
    ]
    assert parent_experiments(CONFIGS / "experiment" / "stance_mix_distilled_robust.yaml")["train"]["epochs"] == 1


def experiment_keys(name: str) -> dict[str, dict]:
    """{group: {key: value}} that experiment ``name`` sets."""
    raw = OmegaConf.load(CONFIGS / "experiment" / f"{name}.yaml")
    return {k: OmegaConf.to_container(v) for k, v in raw.items() if isinstance(v, DictConfig)}


def test_the_default_run_is_the_schema_plus_what_the_default_experiment_names():
    """Composing train.yaml with no overrides gives the schema's defaults, except the keys experiment=sample
    names (and train.yaml's link of model.cache_dir to paths.cache_dir): editing the schema changes the
    default run, and nothing else silently overrides it."""
    cfg = compose_config("train", ["paths.output_dir=/tmp/x"])
    named = experiment_keys("sample")
    named["model"] = {**named.get("model", {}), "cache_dir": "${paths.cache_dir}"}  # train.yaml's one wiring
    for group, schema in (("train", TrainConfig), ("model", ModelConfig), ("paths", PathsConfig)):
        defaults = OmegaConf.to_container(OmegaConf.structured(schema), resolve=False)
        got = OmegaConf.to_container(cfg[group], resolve=False)
        for key, value in got.items():
            expected = named.get(group, {}).get(key, defaults[key])
            if group == "paths" and key == "output_dir":
                expected = "/tmp/x"
            assert value == expected, f"{group}.{key}"
    for name, schema in SCRIPT_SCHEMAS.items():
        if name == "train":
            continue
        no_model = {"baseline": [], "download_data": []}
        required = {"predict": ["model_dir=/m", "input=i", "output=o"], **no_model}.get(name, ["model_dir=/m"])
        cfg = compose_config(name, [*required, "paths.output_dir=/x"])
        defaults = OmegaConf.to_container(OmegaConf.structured(schema))
        got = OmegaConf.to_container(cfg, resolve=False)
        for key in ("document", "fnc", "batch_size", "device", "backend", "precision", "suite", "baseline", "seed"):
            if key in defaults:
                assert got[key] == defaults[key], f"{name}.{key}"


@pytest.mark.parametrize("option", sorted(p.stem for p in (CONFIGS / "document").glob("*.yaml")))
def test_document_configs_compose(option):
    for name, overrides in [
        ("evaluate", ["model_dir=/m", "data=fnc1", "mode=document"]),
        ("predict", ["model_dir=/m", "input=i.jsonl", "output=o.jsonl", "mode=document"]),
    ]:
        cfg = compose_config(name, [*overrides, f"document={option}", "paths.output_dir=/tmp/x"])
        assert cfg.document.input in ("sentences", "truncated", "selected_sentences")
