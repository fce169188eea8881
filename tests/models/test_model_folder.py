"""Loading is safe: labels checked, weights hashed and verified, safetensors only, no remote code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import (
    AutoModelForSequenceClassification,
)

from stancekit import NotAStanceModelError, StanceClassifier
from stancekit.models.folder import (
    METADATA_FILE,
    WEIGHTS_KEY,
    UnsafeModelError,
    WeightsIntegrityError,
    read_metadata,
    sha256_file,
    update_metadata,
)
from tests.helpers import temporary_files


def copy_model(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


PAIRS = [("the council met on monday .", "the council met ."), ("the bridge is closed .", "the bridge is open .")]


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
    assert not temporary_files(folder)


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


def test_folder_that_is_not_a_stance_model(tmp_path, tiny_model_dir):
    with pytest.raises(NotAStanceModelError, match="no config.json"):
        StanceClassifier.from_pretrained(tmp_path)
    # A classifier with other labels (e.g. an MNLI model's entailment/neutral/contradiction) is refused.
    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_model_dir,
        num_labels=3,
        id2label={0: "entailment", 1: "neutral", 2: "contradiction"},
        label2id={"entailment": 0, "neutral": 1, "contradiction": 2},
    )
    model.save_pretrained(tmp_path / "mnli")
    with pytest.raises(NotAStanceModelError, match=r"labels are \['entailment', 'neutral', 'contradiction'\]"):
        StanceClassifier.from_pretrained(tmp_path / "mnli")
    # A bare base model has default labels (LABEL_0, LABEL_1): refused too.
    with pytest.raises(NotAStanceModelError):
        StanceClassifier.from_pretrained(tiny_model_dir)
