"""What a saved model folder holds and how it may be loaded: our labels, safetensors weights whose SHA-256
matches the record, and ``stancekit.json`` beside them (temperature, weights hashes, stancekit version).

Plain ``transformers`` ignores ``stancekit.json``, so a model folder still loads anywhere; stancekit reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..artifacts import sha256_file, write_json
from ..labels import LABELS, is_stance_label_config
from ..version import __version__

METADATA_FILE = "stancekit.json"
# Metadata key: {weights file name: SHA-256 hex digest}, written at save time and checked at load time.
WEIGHTS_KEY = "weights_sha256"


class NotAStanceModelError(ValueError):
    """The folder is not a stancekit model: no classifier config, or labels other than ours."""


class WeightsIntegrityError(ValueError):
    """The weights on disk are not the ones the model folder's metadata recorded (corrupt or altered)."""


def read_metadata(model_dir: str | Path) -> dict[str, Any]:
    """The folder's stancekit metadata, or ``{}`` for a folder without it."""
    path = Path(model_dir) / METADATA_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ValueError(f"{path}: not valid JSON ({err}); the model folder's metadata is damaged") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def update_metadata(model_dir: str | Path, **keys: Any) -> dict[str, Any]:
    """Merge ``keys`` into the metadata and write it atomically (temporary file, then rename)."""
    folder = Path(model_dir)
    data = read_metadata(folder)
    data.update(keys)
    write_json(folder / METADATA_FILE, data, sort_keys=True)
    return data


def weight_files(model_dir: str | Path) -> list[Path]:
    """The safetensors weight files of a model folder (one, or the shards of a large model)."""
    return sorted(Path(model_dir).glob("*.safetensors"))


def record_weights_hash(model_dir: str | Path) -> dict[str, Any]:
    """Store the SHA-256 of every weights file (and the stancekit version) in the folder's metadata."""
    hashes = {path.name: sha256_file(path) for path in weight_files(model_dir)}
    if not hashes:
        raise FileNotFoundError(f"{model_dir}: no *.safetensors weights to record")
    return update_metadata(model_dir, **{WEIGHTS_KEY: hashes, "stancekit_version": __version__})


def verify_weights(model_dir: str | Path) -> bool:
    """Check the weights against the hashes in the metadata; ``False`` when none were recorded.

    Raises :class:`WeightsIntegrityError` naming the file when a recorded file is missing or differs, or a
    weights file appeared that the metadata does not list.
    """
    folder = Path(model_dir)
    recorded = read_metadata(folder).get(WEIGHTS_KEY)
    if recorded is None:
        return False
    if not isinstance(recorded, dict) or not recorded:
        raise WeightsIntegrityError(f"{folder / METADATA_FILE}: {WEIGHTS_KEY} must map weight files to hashes")
    present = {path.name for path in weight_files(folder)}
    for extra in sorted(present - set(recorded)):
        raise WeightsIntegrityError(f"{folder / extra}: weights not listed in {METADATA_FILE}; refusing to load them")
    for name, expected in recorded.items():
        path = folder / name
        if not path.is_file():
            raise WeightsIntegrityError(f"{path}: listed in {METADATA_FILE} but missing")
        actual = sha256_file(path)
        if actual != expected:
            raise WeightsIntegrityError(
                f"{path}: SHA-256 {actual} does not match {expected} recorded in {METADATA_FILE}; the weights "
                "are damaged or were replaced after saving. Re-copy the model folder (or retrain)."
            )
    return True


class UnsafeModelError(ValueError):
    """The model folder would need pickle to load, and pickle was not explicitly allowed."""


def pickle_weight_files(model_dir: str | Path) -> list[Path]:
    """Weight files in PyTorch's pickle format (``pytorch_model*.bin``, ``*.pt``, ``*.pth``, ``*.ckpt``)."""
    folder = Path(model_dir)
    found = [*folder.glob("pytorch_model*.bin"), *folder.glob("*.pt"), *folder.glob("*.pth"), *folder.glob("*.ckpt")]
    return sorted(set(found))


def use_safetensors(model_dir: str | Path, allow_pickle: bool = False) -> bool:
    """Decide how a local model folder's weights may load: the ``use_safetensors`` value for ``from_pretrained``.

    ``True`` when the folder has safetensors weights (only those are read, even if pickle files sit beside
    them). A folder with pickle weights only is refused with :class:`UnsafeModelError`, because unpickling
    a file can run code hidden in it, unless ``allow_pickle`` says the caller trusts it (then ``False``).
    """
    folder = Path(model_dir)
    if weight_files(folder) or (folder / "model.safetensors.index.json").is_file():
        return True
    pickles = pickle_weight_files(folder)
    if not pickles:
        raise FileNotFoundError(f"{folder}: no model weights (model.safetensors) in the folder")
    names = ", ".join(p.name for p in pickles)
    if not allow_pickle:
        raise UnsafeModelError(
            f"{folder}: the weights are only in pickle format ({names}). Loading a pickle file can run any code "
            "hidden in it, so stancekit loads safetensors weights only. If you trust where this folder came "
            "from, pass allow_pickle=True to StanceClassifier.from_pretrained, or convert the folder once (the "
            "scripts load safetensors only) with AutoModelForSequenceClassification.from_pretrained(path)"
            ".save_pretrained(new_path) and the tokenizer likewise, which writes model.safetensors."
        )
    return False


def check_stance_config(id2label: object, where: str) -> None:
    """Raise :class:`NotAStanceModelError` unless the model's labels are exactly ours, in our order."""
    if not isinstance(id2label, dict) or not is_stance_label_config(id2label):
        found = list(id2label.values()) if isinstance(id2label, dict) else id2label
        raise NotAStanceModelError(
            f"{where}: not a stance model: its labels are {found}, expected {list(LABELS)} in that order. "
            "Train one with scripts/train.py, or pass a folder it wrote (RUN/model)."
        )
