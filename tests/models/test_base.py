"""build_model: a head of another shape is replaced, a stancekit model's 3-way head is where training goes on."""

from __future__ import annotations


def _head(model) -> dict:
    return {k: v.clone() for k, v in model.state_dict().items() if k.startswith("classifier")}


def test_a_stancekit_model_keeps_its_head_so_training_continues_from_it(stance_model_dir):
    import torch
    from transformers import AutoModelForSequenceClassification

    from stancekit.config import ModelConfig
    from stancekit.labels import ID2LABEL
    from stancekit.models import build_model

    saved = _head(AutoModelForSequenceClassification.from_pretrained(stance_model_dir))
    torch.manual_seed(123)  # a fresh head would come out different from the saved one's seed
    built = build_model(ModelConfig(name_or_path=str(stance_model_dir)))
    assert built.config.id2label == dict(ID2LABEL)
    head = _head(built)
    assert head.keys() == saved.keys() and head
    assert all(torch.equal(head[k], saved[k]) for k in saved)


def test_a_head_of_another_shape_is_replaced_by_a_fresh_3_way_one(tiny_model_dir, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from stancekit.config import ModelConfig
    from stancekit.labels import ID2LABEL
    from stancekit.models import build_model

    two_way = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=2)
    two_way.save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(tmp_path)
    built = build_model(ModelConfig(name_or_path=str(tmp_path)))
    assert built.config.id2label == dict(ID2LABEL)
    assert built.classifier.weight.shape[0] == 3
    assert two_way.classifier.weight.shape[0] == 2
