"""Every config composes against its schema; unknown keys and wrong types fail at composition."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, ValidationError

from conftest import compose_config
from stancekit.cli import CONFIG_DIR
from stancekit.config import DataConfig, ModelConfig, PathsConfig, TrainConfig

CONFIGS = Path(CONFIG_DIR)


def group_options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIGS / group).glob("*.yaml"))


@pytest.mark.parametrize("data", group_options("data"))
def test_every_data_config_composes(data):
    cfg = compose_config("train", [f"data={data}", "paths.output_dir=/tmp/x"])
    assert cfg.data.name == data
    # Resolving catches broken interpolations too.
    OmegaConf.to_container(cfg.data, resolve=True)
    for split in ("train", "validation", "test"):
        for src in cfg.data[split]:
            assert src.adapter in {"jsonl", "csv", "line_aligned", "stance_bodies"}
            assert src.label_map, f"{data}/{split}/{src.name}: every built-in source maps its labels explicitly"


@pytest.mark.parametrize("experiment", group_options("experiment"))
def test_every_experiment_composes(experiment):
    cfg = compose_config("train", [f"experiment={experiment}", "paths.output_dir=/tmp/x"])
    OmegaConf.to_container(cfg, resolve=True)
    assert experiment in cfg.tags


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
    # document/ is composed with evaluate and predict in tests/test_document.py; hparams_search/ and
    # hydra/launcher/ (a level deeper) in tests/test_sweeps.py.
    assert groups == {"data", "model", "train", "experiment", "paths", "document", "hparams_search"}
    assert {p.stem for p in CONFIGS.glob("*.yaml")} == {"train", "evaluate", "predict", "baseline", "calibrate"}


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
