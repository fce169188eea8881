"""Dropout for training on CPUs with masks drawn by NumPy instead of ``torch.bernoulli_`` (issue #17).

PyTorch draws a CPU dropout mask one element at a time from its Mersenne Twister, on one thread; with bf16
matrix products the rest of a small encoder's step got fast enough that those masks became a large share
of it (the step profile is in docs/performance.md). NumPy's PCG64 fills a float32 array several times
faster. Each mask's generator is seeded by one draw from torch's default generator, so a seeded run is
repeatable and a resumed run (whose checkpoint holds torch's generator state) continues the same stream.

Two places draw masks in a transformers encoder: ``nn.Dropout`` modules (embeddings, each layer's outputs,
the classifier head; MPNet's attention probabilities), swapped here for :class:`FastDropout`, and, for the
models that use transformers' attention interface (BERT and MiniLM), the attention probabilities inside the
attention function: its ``sdpa`` path on CPU also draws them with ``bernoulli_``. Those run
:func:`attention_with_fast_dropout` while training; with dropout off (evaluation) it is transformers' own
``sdpa`` function, so validation during training costs what it did. :func:`use_fast_dropout` installs both
and returns the function that puts the model back as it was, before the model is saved or served: the
weights and the saved folder do not change, only how the training masks are drawn.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from transformers import AttentionInterface, PreTrainedModel
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

ATTENTION = "stancekit_fast_dropout"


def keep_mask(shape: torch.Size, p: float) -> torch.Tensor:
    """A boolean tensor of ``shape``, each element True with probability ``1 - p``, independently."""
    seed = int(torch.randint(0, 2**62, (1,)))  # from torch's generator: torch.manual_seed makes it repeatable
    uniform = np.random.Generator(np.random.PCG64(seed)).random(int(np.prod(shape)), dtype=np.float32)
    return torch.from_numpy(uniform >= p).view(shape)


def fast_dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """``nn.functional.dropout(x, p, training=True)`` with the mask from :func:`keep_mask` (CPU tensors)."""
    if p <= 0:
        return x
    if p >= 1:
        return torch.zeros_like(x)
    return torch.where(keep_mask(x.shape, p), x * (1.0 / (1.0 - p)), 0)


class FastDropout(nn.Dropout):
    """``nn.Dropout`` whose training masks come from :func:`keep_mask`; in evaluation it is the identity."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or x.device.type != "cpu":
            return super().forward(x)
        return fast_dropout(x, self.p)


def attention_with_fast_dropout(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """transformers' ``sdpa`` attention, but with dropout on (training) the attention probabilities are
    computed explicitly and dropped with :func:`fast_dropout`. Takes ``sdpa``'s masks (boolean, True = attend,
    or additive floats, or None) and returns ``(batch, length, heads, head_dim)`` as the interface expects."""
    if dropout == 0 or query.device.type != "cpu":
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout, scaling, **kwargs)
    scores = torch.matmul(query, key.transpose(2, 3)) * (query.size(-1) ** -0.5 if scaling is None else scaling)
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask
    probs = fast_dropout(nn.functional.softmax(scores, dim=-1), dropout)
    return torch.matmul(probs, value).transpose(1, 2).contiguous(), None  # no weights, as sdpa


AttentionInterface.register(ATTENTION, attention_with_fast_dropout)
AttentionMaskInterface.register(ATTENTION, sdpa_mask)


def use_fast_dropout(model: PreTrainedModel) -> Callable[[], None]:
    """Swap ``model``'s ``nn.Dropout`` modules for :class:`FastDropout` and, where it runs transformers'
    ``sdpa`` attention, use :func:`attention_with_fast_dropout`; return the function that undoes both."""
    swapped: list[tuple[nn.Module, str, nn.Dropout]] = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Dropout:  # exact type: a subclass may mean something else
                replacement = FastDropout(child.p, child.inplace)
                replacement.train(child.training)
                setattr(parent, name, replacement)
                swapped.append((parent, name, child))
    attention = model.config._attn_implementation
    # Only models whose attention goes through the interface (others, such as MPNet, drop their attention
    # probabilities with an nn.Dropout module, swapped above).
    switch = attention == "sdpa" and model._can_set_attn_implementation()
    if switch:
        model.set_attn_implementation(ATTENTION)

    def restore() -> None:
        for parent, name, original in swapped:
            original.train(getattr(parent, name).training)
            setattr(parent, name, original)
        if switch:
            model.set_attn_implementation(attention)

    return restore
