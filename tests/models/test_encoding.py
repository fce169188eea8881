"""Pairs become tokens one way: premise truncated first, lengths capped at what the model accepts."""

from __future__ import annotations


def test_max_length_is_capped_at_what_the_model_accepts(tiny_model_dir, caplog):
    from transformers import AutoConfig, AutoTokenizer

    from stancekit import StanceClassifier
    from stancekit.config import ModelConfig
    from stancekit.models import build_model, usable_max_length

    config, tokenizer = AutoConfig.from_pretrained(tiny_model_dir), AutoTokenizer.from_pretrained(tiny_model_dir)
    assert config.max_position_embeddings == 128  # the tiny test model
    assert usable_max_length(config, tokenizer, None) == 128
    assert usable_max_length(config, tokenizer, 64) == 64
    with caplog.at_level("WARNING"):
        assert usable_max_length(config, tokenizer, 256) == 128
    assert "using its limit, 128 tokens" in caplog.text
    # A pair longer than the model's positions is truncated, not a crash in the embedding lookup.
    clf = StanceClassifier(build_model(ModelConfig(name_or_path=str(tiny_model_dir))), tokenizer, max_length=256)
    assert clf.max_length == 128
    assert clf.predict_proba([("word " * 400, "a claim")]).shape == (1, 3)
