"""Training dropout with NumPy-drawn masks: the same distribution and gradients as PyTorch's, repeatable under
a seed, the attention function equal to sdpa's, and a saved model that is the plain transformers one."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn
from transformers import AutoModelForSequenceClassification, BertConfig, BertForSequenceClassification
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from stancekit.train.dropout import (
    ATTENTION,
    FastDropout,
    attention_with_fast_dropout,
    fast_dropout,
    keep_mask,
    use_fast_dropout,
)
from tests.helpers import compose_config, tiny_train_overrides


def test_keep_mask_keeps_each_element_with_probability_one_minus_p_and_follows_the_torch_seed():
    torch.manual_seed(0)
    mask = keep_mask(torch.Size([1000, 1000]), 0.1)
    assert mask.dtype == torch.bool and mask.shape == (1000, 1000)
    assert abs(mask.float().mean().item() - 0.9) < 0.002  # binomial std here is 0.0003
    # Rows and columns are not correlated (a broken reshape or a reused seed would show here).
    assert abs(mask.float().mean(dim=0).std().item() - 0.3 / 1000**0.5) < 0.003
    torch.manual_seed(0)
    assert torch.equal(keep_mask(torch.Size([1000, 1000]), 0.1), mask)
    assert not torch.equal(keep_mask(torch.Size([1000, 1000]), 0.1), mask)  # the next draw is a new mask


def test_fast_dropout_scales_what_it_keeps_and_passes_gradients_through_the_same_mask():
    x = torch.full((200, 500), 2.0, requires_grad=True)
    torch.manual_seed(1)
    y = fast_dropout(x, 0.25)
    kept = y != 0
    assert torch.all(y[kept] == 2.0 / 0.75)
    assert abs(kept.float().mean().item() - 0.75) < 0.01
    y.sum().backward()
    assert torch.equal(x.grad, kept.float() / 0.75)
    assert fast_dropout(x, 0.0) is x and torch.equal(fast_dropout(x, 1.0), torch.zeros_like(x))
    layer = FastDropout(0.5).eval()
    assert torch.equal(layer(x), x)  # evaluation: the identity


@pytest.mark.parametrize("mask_kind", ["none", "bool", "additive"])
def test_the_attention_function_equals_sdpa_with_dropout_off_and_on_at_a_vanishing_rate(mask_kind):
    torch.manual_seed(0)
    query, key, value = (torch.randn(3, 2, 7, 8) for _ in range(3))
    keep = torch.ones(3, 1, 7, 7, dtype=torch.bool)
    keep[0, :, :, 5:] = False
    mask = {"none": None, "bool": keep, "additive": torch.zeros(keep.shape).masked_fill(~keep, -1e9)}[mask_kind]
    module = nn.Module()
    expected, _ = sdpa_attention_forward(module, query, key, value, mask, 0.0, None, is_causal=False)
    off, _ = attention_with_fast_dropout(module, query, key, value, mask, 0.0, None, is_causal=False)
    # dropout 1e-12: the explicit path, with nothing dropped.
    on, weights = attention_with_fast_dropout(module, query, key, value, mask, 1e-12, None, is_causal=False)
    assert torch.equal(off, expected)
    torch.testing.assert_close(on, expected, atol=1e-5, rtol=1e-5)
    assert on.shape == (3, 7, 2, 8) and weights is None


def tiny_bert() -> BertForSequenceClassification:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, num_labels=3
    )
    return BertForSequenceClassification(config)


def test_use_fast_dropout_swaps_every_dropout_and_the_attention_and_undoes_both():
    model = tiny_bert().eval()
    ids = torch.randint(1, 50, (4, 9))
    mask = torch.ones_like(ids)
    mask[:2, 6:] = 0
    expected = model(input_ids=ids, attention_mask=mask).logits
    restore = use_fast_dropout(model)
    assert model.config._attn_implementation == ATTENTION
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert dropouts and all(type(m) is FastDropout for m in dropouts)
    torch.testing.assert_close(model(input_ids=ids, attention_mask=mask).logits, expected)  # evaluation: same
    model.train()
    torch.manual_seed(3)
    first = model(input_ids=ids, attention_mask=mask).logits
    torch.manual_seed(3)
    assert torch.equal(model(input_ids=ids, attention_mask=mask).logits, first)
    assert not torch.allclose(first, expected)  # dropout is on
    restore()
    assert model.config._attn_implementation == "sdpa"
    assert all(type(m) is nn.Dropout and m.training for m in model.modules() if isinstance(m, nn.Dropout))
    model.eval()
    torch.testing.assert_close(model(input_ids=ids, attention_mask=mask).logits, expected)


def test_a_model_without_the_attention_interface_gets_its_modules_swapped_only():
    from transformers import MPNetConfig, MPNetForSequenceClassification

    config = MPNetConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, num_labels=3
    )
    model = MPNetForSequenceClassification(config)
    implementation = model.config._attn_implementation
    restore = use_fast_dropout(model)
    assert model.config._attn_implementation == implementation
    assert all(type(m) is FastDropout for m in model.modules() if isinstance(m, nn.Dropout))
    model.train()
    model(input_ids=torch.randint(1, 50, (2, 5))).logits.sum().backward()
    restore()
    assert all(type(m) is nn.Dropout for m in model.modules() if isinstance(m, nn.Dropout))


def test_training_uses_it_repeatably_and_saves_the_plain_model(tiny_model_dir, tmp_path):
    from safetensors.torch import load_file

    from stancekit.train import train

    common = ["train.max_steps=3", "train.precision=fp32", "train.calibrate=false", "run_test=false"]
    weights = {}
    for name, fast in (("fast", "true"), ("again", "true"), ("torch", "false")):
        overrides = [*common, f"train.fast_dropout={fast}"]
        train(compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path / name, overrides)))
        weights[name] = load_file(tmp_path / name / "model" / "model.safetensors")
    key = "classifier.weight"
    assert torch.equal(weights["fast"][key], weights["again"][key])  # the same seed, the same masks
    assert not torch.equal(weights["fast"][key], weights["torch"][key])  # other masks: it was in use
    saved = (tmp_path / "fast" / "model" / "config.json").read_text()
    assert ATTENTION not in saved and "attn_implementation" not in json.loads(saved)
    plain = AutoModelForSequenceClassification.from_pretrained(tmp_path / "fast" / "model")
    assert plain.config._attn_implementation == "sdpa"
    assert not any(type(m) is FastDropout for m in plain.modules())
