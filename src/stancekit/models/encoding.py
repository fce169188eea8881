"""The one way pairs become tokens, and the limits on their length.

Training, evaluation and inference all encode through :func:`encode_pairs`, so a model sees pairs the
same way everywhere: the evidence (premise) as text A, the claim (hypothesis) as text B, and truncation
taken from the premise first, because the claim is short and the part the model is asked about. Pairs
that must be cut are counted and reported, never cut silently.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

from transformers import BatchEncoding, PreTrainedTokenizerBase

log = logging.getLogger(__name__)


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
    tokenizer: PreTrainedTokenizerBase, premises: Sequence[str], hypotheses: Sequence[str], max_length: int
) -> BatchEncoding:
    """:func:`encode_pairs_counted` without the count (unpadded: collators and batchers pad)."""
    return encode_pairs_counted(tokenizer, premises, hypotheses, max_length)[0]


class TruncationWarning(UserWarning):
    """Some pairs were longer than the model's limit; their premises were truncated (the claim kept whole)."""


def count_over_length(
    tokenizer: PreTrainedTokenizerBase,
    premises: Sequence[str],
    hypotheses: Sequence[str],
    max_length: int,
    chunk: int = 2048,
) -> int:
    """How many pairs exceed ``max_length`` tokens (special tokens included) and so get truncated.

    Truncation itself is done by :func:`encode_pairs` (premise first); this only counts,
    so that runs can report it instead of cutting text silently.
    """
    over = 0
    for start in range(0, len(premises), chunk):
        enc = tokenizer(
            list(premises[start : start + chunk]),
            list(hypotheses[start : start + chunk]),
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,  # the tokenizer's own "longer than the maximum" warning; we count instead
        )
        over += sum(len(ids) > max_length for ids in enc["input_ids"])
    return over


def warn_truncated(over: int, total: int, max_length: int) -> int:
    """Warn (:class:`TruncationWarning`) when ``over`` of ``total`` pairs were longer than ``max_length``."""
    if over:
        warnings.warn(
            f"{over} of {total} pairs are longer than {max_length} tokens; their premises were truncated "
            "(the claim is kept whole)",
            TruncationWarning,
            stacklevel=4,  # past predict_logits and its inference_mode wrapper, to its caller
        )
    return over
