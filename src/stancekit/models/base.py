"""The base model: resolve ``model.name_or_path`` (packaged, a folder, a hub id), load its tokenizer, and
build the classifier with our labels."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from ..config import ModelConfig
from ..labels import ID2LABEL, LABEL2ID, LABELS
from .packaged import packaged_model_path

PACKAGED_PREFIX = "packaged:"


def resolve_model_path(name_or_path: str, cache_dir: str | Path = ".cache") -> str:
    """Turn ``model.name_or_path`` into something ``from_pretrained`` accepts.

    ``packaged:NAME`` gives the folder of a model shipped as PyPI packages (assembled into ``cache_dir``
    once when split over several); an existing folder is used as is; anything else is passed through as a
    hub id (which needs internet and is cached by HF).
    """
    if name_or_path.startswith(PACKAGED_PREFIX):
        return str(packaged_model_path(name_or_path[len(PACKAGED_PREFIX) :], cache_dir))
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"{path} is a folder but has no config.json: not a transformers model")
        return str(path)
    return name_or_path


def load_tokenizer(cfg: ModelConfig) -> PreTrainedTokenizerBase:
    path = resolve_model_path(cfg.name_or_path, cfg.cache_dir)
    return AutoTokenizer.from_pretrained(path, revision=cfg.revision, trust_remote_code=cfg.trust_remote_code)


def build_model(cfg: ModelConfig) -> PreTrainedModel:
    """A sequence classifier with a 3-way head and our labels written into its config.

    Only weights whose shape differs are initialised afresh: the output layer of a head with another number of
    labels (a 2-layer head's inner dense layer, as MPNet's, is loaded when its shape matches). A 3-way head is
    kept as the starting point, its rows read in our label order: right for a stancekit model (the FNC-1 model
    continued on ARC, say); for a model with other 3 labels (an MNLI checkpoint) only an initialisation that
    fine-tuning retrains.
    """
    path = resolve_model_path(cfg.name_or_path, cfg.cache_dir)
    return AutoModelForSequenceClassification.from_pretrained(
        path,
        num_labels=len(LABELS),
        id2label=dict(ID2LABEL),
        label2id=dict(LABEL2ID),
        # A base model may carry another task's head: what no longer fits our 3 labels is re-initialised.
        ignore_mismatched_sizes=True,
        revision=cfg.revision,
        trust_remote_code=cfg.trust_remote_code,
        use_safetensors=None,
    )
