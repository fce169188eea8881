"""Base model resolution, the classifier with our labels, and the one pair-encoding function.

Training, evaluation and inference all encode through :func:`encode_pairs`, so a model sees pairs the
same way everywhere: the evidence (premise) as text A, the claim (hypothesis) as text B, and truncation
taken from the premise first, because the claim is short and the part the model is asked about.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BatchEncoding,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from .config import ModelConfig
from .labels import ID2LABEL, LABEL2ID, LABELS
from .packaged import packaged_model_path

log = logging.getLogger(__name__)

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


def usable_max_length(model_config: object, tokenizer: PreTrainedTokenizerBase, requested: int | None) -> int:
    """Tokens per pair: ``requested`` (512 when None), at most what the model's position embeddings and the
    tokenizer accept. A longer request would crash the embedding lookup on the first long pair (possibly
    hours into a run), so it is lowered to the limit with a warning instead."""
    model_limit = getattr(model_config, "max_position_embeddings", 512)
    # A tokenizer without a limit reports a huge sentinel (int(1e30)); RoBERTa-style models have 514 positions
    # of which 512 are usable, which their tokenizers' 512 expresses.
    tokenizer_limit = tokenizer.model_max_length if tokenizer.model_max_length < 100_000 else model_limit
    limit = min(model_limit, tokenizer_limit)
    if requested is None:
        return min(limit, 512)
    if requested > limit:
        log.warning("max_length %d is more than this model accepts; using its limit, %d tokens", requested, limit)
        return limit
    return requested


def build_model(cfg: ModelConfig) -> PreTrainedModel:
    """A sequence classifier with a fresh 3-way head and our labels written into its config."""
    path = resolve_model_path(cfg.name_or_path, cfg.cache_dir)
    return AutoModelForSequenceClassification.from_pretrained(
        path,
        num_labels=len(LABELS),
        id2label=dict(ID2LABEL),
        label2id=dict(LABEL2ID),
        # A base model may carry another task's head (e.g. an MNLI checkpoint): replace it, never reuse it.
        ignore_mismatched_sizes=True,
        revision=cfg.revision,
        trust_remote_code=cfg.trust_remote_code,
        use_safetensors=None,
    )


def encode_pairs_counted(
    tokenizer: PreTrainedTokenizerBase, premises: Sequence[str], hypotheses: Sequence[str], max_length: int
) -> tuple[BatchEncoding, int]:
    """Tokenise (premise, hypothesis) as true sentence pairs, truncating the premise first; also return how
    many pairs were longer than ``max_length`` (and so truncated), so callers can report it.

    All pairs are encoded once without truncation; only the (rare) pairs over the limit are encoded again,
    truncated. ``only_first`` keeps the whole claim and cuts the evidence; when a claim alone is too long for
    that, the tokenizer cannot honour it, so those pairs fall back to ``longest_first``.
    """
    premises, hypotheses = list(premises), list(hypotheses)
    # verbose=False: the tokenizer's "longer than the maximum" warning; we count instead.
    enc = tokenizer(premises, hypotheses, truncation=False, verbose=False)
    long = [i for i, ids in enumerate(enc["input_ids"]) if len(ids) > max_length]
    if long:
        long_premises, long_hypotheses = [premises[i] for i in long], [hypotheses[i] for i in long]
        budget = max_length - tokenizer.num_special_tokens_to_add(pair=True)
        hyp_lengths = [len(ids) for ids in tokenizer(long_hypotheses, add_special_tokens=False)["input_ids"]]
        strategy = "only_first" if max(hyp_lengths) < budget else "longest_first"
        cut = tokenizer(long_premises, long_hypotheses, truncation=strategy, max_length=max_length)
        for key in enc:
            for j, i in enumerate(long):
                enc[key][i] = cut[key][j]
    return enc, len(long)


def encode_pairs(
    tokenizer: PreTrainedTokenizerBase,
    premises: Sequence[str],
    hypotheses: Sequence[str],
    max_length: int,
    padding: bool | str = False,
    return_tensors: str | None = None,
) -> BatchEncoding:
    """:func:`encode_pairs_counted` without the count, optionally padded into tensors."""
    enc, _ = encode_pairs_counted(tokenizer, premises, hypotheses, max_length)
    if padding or return_tensors:
        enc = tokenizer.pad(enc, padding=padding or True, return_tensors=return_tensors)
    return enc


def pick_device(device: str = "auto") -> torch.device:
    """``auto`` takes CUDA, then Apple's MPS, then the CPU."""
    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX-512 BF16 or AMX), where bf16 autocast pays off.

    On such CPUs (Intel Cooper Lake / Sapphire Rapids and later, AMD Zen 4 and later) bf16 autocast trained
    MiniLM ~1.4x faster than fp32 in bench/train.py and ran inference ~1.6x faster; elsewhere bf16 is emulated
    and slower than fp32. Used by training's and the wrapper's ``precision="auto"``.
    """
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private, so looked up defensively
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)
