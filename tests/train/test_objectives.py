"""Distillation and debiasing: the loss terms computed by hand, the out-of-fold bias model, the teacher's cache,
and both wired end to end through the recipe on the tiny model."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch
from datasets import Dataset

from stancekit.data.augment import NO_EVIDENCE_TAG
from stancekit.data.capability_augment import SOURCE_PREFIX
from stancekit.labels import LABEL2ID
from stancekit.train import train
from stancekit.train.objectives import (
    add_aux_columns,
    bias_log_probs,
    pair_keys,
    teacher_logits,
    teacher_store_key,
    weighted_labels,
)
from stancekit.train.trainer import make_loss
from tests.helpers import compose_config, shuffled_sample_pairs, tiny_train_overrides

LOGITS = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0], [0.5, 0.0, 3.0], [1.0, 1.0, 1.0]])
LABELS_T = torch.tensor([0, 1, 2, 1])


def ce(logits, labels, reduction="none"):
    return torch.nn.functional.cross_entropy(logits, labels, reduction=reduction)


def test_poe_with_an_uninformative_bias_is_plain_cross_entropy():
    uniform = torch.full((4, 3), math.log(1 / 3))
    loss = make_loss(None, 0.0, debias="poe")
    assert loss({"logits": LOGITS}, LABELS_T, bias_log_probs=uniform).item() == pytest.approx(
        ce(LOGITS, LABELS_T, "mean").item()
    )


def test_poe_adds_the_bias_log_probabilities_and_shrinks_the_loss_where_the_bias_is_right():
    bias = torch.log(torch.tensor([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.2, 0.2, 0.6], [1 / 3, 1 / 3, 1 / 3]]))
    per_pair = ce(torch.log_softmax(LOGITS, -1) + bias, LABELS_T)
    loss = make_loss(None, 0.0, debias="poe")
    assert loss({"logits": LOGITS}, LABELS_T, bias_log_probs=bias).item() == pytest.approx(per_pair.mean().item())
    plain = ce(LOGITS, LABELS_T)
    assert per_pair[0] < plain[0]  # the bias already gets pair 0 right: less left to learn there
    assert per_pair[1] > plain[1]  # the bias is wrong: the student must make up for it


def test_reweight_scales_each_pair_by_one_minus_the_bias_probability_of_gold():
    probs = torch.tensor([[0.9, 0.05, 0.05], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8]])
    loss = make_loss(None, 0.0, debias="reweight")
    expected = (ce(LOGITS, LABELS_T) * torch.tensor([0.1, 0.5, 0.6, 0.9])).sum() / 8
    value = loss({"logits": LOGITS}, LABELS_T, num_items_in_batch=8, bias_log_probs=probs.log())
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)


def test_distillation_mixes_gold_and_softened_teacher_targets():
    teacher = torch.tensor([[1.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    t, alpha = 2.0, 0.3
    soft = (
        torch.softmax(teacher / t, -1) * (torch.log_softmax(teacher / t, -1) - torch.log_softmax(LOGITS / t, -1))
    ).sum(-1)
    expected = ((1 - alpha) * ce(LOGITS, LABELS_T) + alpha * t * t * soft).mean()
    loss = make_loss(None, 0.0, distill_alpha=alpha, distill_temperature=t)
    assert loss({"logits": LOGITS}, LABELS_T, teacher_logits=teacher).item() == pytest.approx(expected.item(), rel=1e-5)
    # A student equal to its teacher owes nothing to it; alpha=0 is the gold loss alone.
    only_teacher = make_loss(None, 0.0, distill_alpha=1.0)
    assert only_teacher({"logits": LOGITS}, LABELS_T, teacher_logits=LOGITS).item() == pytest.approx(0.0, abs=1e-6)
    only_gold = make_loss(None, 0.0, distill_alpha=0.0)
    assert only_gold({"logits": LOGITS}, LABELS_T, teacher_logits=teacher).item() == pytest.approx(
        ce(LOGITS, LABELS_T, "mean").item()
    )


def test_a_zero_teacher_weight_leaves_a_pair_on_its_gold_label_alone():
    teacher = torch.tensor([[1.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    weight = torch.tensor([1.0, 0.0, 1.0, 0.0])
    t, alpha = 2.0, 0.6
    soft = (
        torch.softmax(teacher / t, -1) * (torch.log_softmax(teacher / t, -1) - torch.log_softmax(LOGITS / t, -1))
    ).sum(-1)
    gold = ce(LOGITS, LABELS_T)
    expected = torch.where(weight.bool(), (1 - alpha) * gold + alpha * t * t * soft, gold).mean()
    loss = make_loss(None, 0.0, distill_alpha=alpha, distill_temperature=t)
    value = loss({"logits": LOGITS}, LABELS_T, teacher_logits=teacher, teacher_weight=weight)
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)
    # The sum path of gradient accumulation divides the same per-pair terms by the accumulated count.
    summed = loss({"logits": LOGITS}, LABELS_T, num_items_in_batch=8, teacher_logits=teacher, teacher_weight=weight)
    assert summed.item() == pytest.approx(expected.item() * 4 / 8, rel=1e-5)
    # All ones is the plain distillation loss.
    ones = loss({"logits": LOGITS}, LABELS_T, teacher_logits=teacher, teacher_weight=torch.ones(4))
    assert ones.item() == pytest.approx(loss({"logits": LOGITS}, LABELS_T, teacher_logits=teacher).item(), rel=1e-6)


def test_pairs_without_evidence_learn_equal_probabilities_in_place_of_every_other_term():
    flags = torch.tensor([0.0, 1.0, 0.0, 1.0])
    no_opinion = -torch.log_softmax(LOGITS, -1).mean(-1)
    expected = torch.where(flags.bool(), no_opinion, ce(LOGITS, LABELS_T)).mean()
    loss = make_loss(None, 0.0)
    assert loss({"logits": LOGITS}, LABELS_T, uniform_target=flags).item() == pytest.approx(expected.item(), rel=1e-6)
    # Debiasing and the teacher leave the flagged pairs alone.
    teacher = torch.tensor([[5.0, 0.0, 0.0]] * 4)
    per_pair = []
    for i in range(4):
        one = make_loss(None, 0.0, debias="reweight")(
            {"logits": LOGITS[i : i + 1]},
            LABELS_T[i : i + 1],
            num_items_in_batch=1,
            uniform_target=flags[i : i + 1],
            teacher_logits=teacher[i : i + 1],
            bias_log_probs=torch.full((1, 3), math.log(1 / 3)),
        )
        per_pair.append(one.item())
    assert per_pair[1] == pytest.approx(no_opinion[1].item()) and per_pair[3] == pytest.approx(no_opinion[3].item())
    assert per_pair[0] != pytest.approx(no_opinion[0].item())  # an unflagged pair keeps its own loss
    # "No opinion" is where that loss is lowest: equal logits get no gradient, a confident neutral does.
    for row, zero_gradient in [([0.3, 0.3, 0.3], True), ([0.0, 0.0, 4.0], False)]:
        logits = torch.tensor([row], requires_grad=True)
        make_loss(None, 0.0)({"logits": logits}, torch.tensor([2]), uniform_target=torch.tensor([1.0])).backward()
        assert (logits.grad.abs().max().item() < 1e-7) == zero_gradient


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"debias": "focal"}, "train.debias"),
        ({"distill_alpha": 1.5}, "distill_alpha"),
        ({"distill_temperature": 0}, "distill_temperature"),
    ],
)
def test_bad_objective_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_loss(None, 0.0, **kwargs)


def test_bias_model_is_out_of_fold_and_finds_a_claim_only_shortcut():
    rng = np.random.default_rng(0)
    # "never" marks a contradiction in the claim alone (the SNLI negation shortcut); the rest is noise.
    words = ["cat", "dog", "park", "river", "music", "bread", "street", "market"]
    hypotheses, labels = [], []
    for i in range(300):
        label = i % 3
        claim = " ".join(rng.choice(words, 4))
        hypotheses.append(("never " if label == LABEL2ID["contradict"] else "") + claim)
        labels.append(label)
    logp = bias_log_probs(hypotheses, labels, folds=5, seed=0)
    assert logp.shape == (300, 3) and np.allclose(np.exp(logp).sum(1), 1, atol=1e-6)
    contradictions = np.asarray(labels) == LABEL2ID["contradict"]
    assert (logp.argmax(1)[contradictions] == LABEL2ID["contradict"]).mean() > 0.95
    # A claim seen only once (a unique word) cannot be memorised out of fold: its bias stays unsure.
    unique = bias_log_probs(hypotheses[:-1] + ["zebra quokka"], labels, folds=5, seed=0)[-1]
    assert np.exp(unique).max() < 0.7


def store_files(cache_dir):
    return sorted((cache_dir / "teacher").glob("*/*.npz"))


def count_teacher_calls(monkeypatch):
    """The sizes of the chunks the teacher is asked to score from now on."""
    from stancekit.infer import classifier

    real = classifier.StanceClassifier.predict_logits
    calls = []
    monkeypatch.setattr(
        classifier.StanceClassifier,
        "predict_logits",
        lambda self, chunk, *a, **k: calls.append(len(chunk)) or real(self, chunk, *a, **k),
    )
    return calls


def test_teacher_logits_are_computed_once_and_cached(stance_model_dir, tmp_path, monkeypatch):
    # An empty premise is a training pair like any other (the capability augmentation makes them).
    pairs = shuffled_sample_pairs()[:19] + [("", "The minister resigned.")]
    first = teacher_logits(stance_model_dir, pairs, tmp_path, max_length=64)
    assert first.shape == (20, 3) and len(store_files(tmp_path)) == 1

    from stancekit.infer import classifier

    teacher = classifier.StanceClassifier.from_pretrained(str(stance_model_dir), batch_size=64, max_length=64)
    np.testing.assert_allclose(first, teacher.predict_logits(pairs, allow_empty_premise=True), atol=1e-5)

    def no_teacher(*args, **kwargs):
        raise AssertionError("the teacher ran again instead of using the cache")

    monkeypatch.setattr(classifier.StanceClassifier, "from_pretrained", no_teacher)
    assert np.array_equal(teacher_logits(stance_model_dir, pairs, tmp_path, max_length=64), first)
    # The pairs are keyed one by one: another order or a subset is answered from the cache too.
    assert np.array_equal(teacher_logits(stance_model_dir, pairs[::-1], tmp_path, max_length=64), first[::-1])
    assert np.array_equal(teacher_logits(stance_model_dir, pairs[3:9], tmp_path, max_length=64), first[3:9])
    # Another max length, backend or precision is another folder; a pair's key sees both of its texts.
    stores = {
        teacher_store_key(stance_model_dir, 64, "torch", "fp32"),
        teacher_store_key(stance_model_dir, 32, "torch", "fp32"),
        teacher_store_key(stance_model_dir, 64, "openvino", "fp32"),
        teacher_store_key(stance_model_dir, 64, "torch", "bf16"),
    }
    assert len(stores) == 4
    # No separator can be confused with text: scraped text may hold NUL bytes.
    split = [("a", "b"), ("a b", ""), ("", "a b"), ("b", "a"), ("a\x00b", "c"), ("a", "b\x00c"), ("a", "b")]
    keys = pair_keys(split)
    assert keys.shape == (7, 16) and keys.dtype == np.uint8 and len({k.tobytes() for k in keys}) == 6


def test_teacher_logits_score_only_the_pairs_not_yet_cached(stance_model_dir, tmp_path, monkeypatch):
    # A changed mixture (another source, other caps, augmented pairs) reuses the scores of the pairs it keeps.
    sample = shuffled_sample_pairs()
    before = teacher_logits(stance_model_dir, sample[:12], tmp_path, max_length=64)
    calls = count_teacher_calls(monkeypatch)
    grown = sample[20:25] + sample[:12] + sample[20:22]  # 5 new pairs, two of them twice
    after = teacher_logits(stance_model_dir, grown, tmp_path, max_length=64)
    assert calls == [5]
    np.testing.assert_array_equal(after[5:17], before)
    np.testing.assert_array_equal(after[17:], after[:2])
    assert len(store_files(tmp_path)) == 2
    # The same scores as a teacher that scored the grown mixture from nothing.
    np.testing.assert_allclose(after, teacher_logits(stance_model_dir, grown, tmp_path / "fresh", 64), atol=1e-5)


def test_a_damaged_part_is_scored_again_not_fatal(stance_model_dir, tmp_path, monkeypatch, caplog):
    # A part cut short (a copy interrupted) or of another format: its pairs are scored again, the run goes on.
    from stancekit.train import objectives

    monkeypatch.setattr(objectives, "TEACHER_PART", 6)
    pairs = shuffled_sample_pairs()[:12]
    whole = teacher_logits(stance_model_dir, pairs, tmp_path, max_length=64, precision="fp32")
    first, second = store_files(tmp_path)
    first.write_bytes(first.read_bytes()[:100])
    np.savez(second, keys=np.zeros((6, 16), np.uint8))  # no logits
    calls = count_teacher_calls(monkeypatch)
    again = teacher_logits(stance_model_dir, pairs, tmp_path, max_length=64, precision="fp32")
    assert calls == [6, 6] and "cannot be read" in caplog.text
    np.testing.assert_allclose(again, whole, atol=1e-5)
    # A precision is a folder of its own.
    teacher_logits(stance_model_dir, pairs[:3], tmp_path, max_length=64, precision="bf16")
    assert len({path.parent for path in store_files(tmp_path)}) == 2


def test_teacher_logits_through_another_backend_are_keyed_apart_and_agree(stance_model_dir, tmp_path):
    # train.teacher_backend / teacher_precision: the teacher converted once (inside a copy of its folder, as a
    # user's folder would be) and run through OpenVINO; its cache never answers for the default's, nor the reverse.
    pytest.importorskip("openvino")
    teacher = tmp_path / "teacher-model"
    shutil.copytree(stance_model_dir, teacher)
    pairs = shuffled_sample_pairs()[:12]
    default = teacher_logits(teacher, pairs, tmp_path, max_length=64, precision="fp32")
    converted = teacher_logits(teacher, pairs, tmp_path, max_length=64, backend="openvino", precision="fp32")
    assert (teacher / "openvino").is_dir()
    assert len({path.parent for path in store_files(tmp_path)}) == 2
    np.testing.assert_allclose(converted, default, atol=1e-4)


def test_teacher_logits_continue_from_the_parts_of_a_stopped_run(stance_model_dir, tmp_path, monkeypatch):
    from stancekit.infer import classifier
    from stancekit.train import objectives

    monkeypatch.setattr(objectives, "TEACHER_PART", 6)
    pairs = shuffled_sample_pairs()[:20]  # parts of 6, 6, 6 and 2 pairs
    whole = teacher_logits(stance_model_dir, pairs, tmp_path / "whole", max_length=64)
    assert len(store_files(tmp_path / "whole")) == 4

    # A run stopped while scoring the third part: the first two parts are on disk.
    real = classifier.StanceClassifier.predict_logits
    calls = []

    def stop_at_third(self, chunk, *args, **kwargs):
        calls.append(len(chunk))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, chunk, *args, **kwargs)

    monkeypatch.setattr(classifier.StanceClassifier, "predict_logits", stop_at_third)
    with pytest.raises(KeyboardInterrupt):
        teacher_logits(stance_model_dir, pairs, tmp_path / "stopped", max_length=64)
    assert len(store_files(tmp_path / "stopped")) == 2
    monkeypatch.setattr(classifier.StanceClassifier, "predict_logits", real)
    resumed_calls = count_teacher_calls(monkeypatch)
    resumed = teacher_logits(stance_model_dir, pairs, tmp_path / "stopped", max_length=64)
    assert resumed_calls == [6, 2]  # only the parts not yet done
    np.testing.assert_allclose(resumed, whole, atol=1e-5)


def test_aux_columns_only_when_asked(stance_model_dir, tmp_path):
    pairs = shuffled_sample_pairs()[:30]
    ds = Dataset.from_dict(
        {"premise": [p for p, _ in pairs], "hypothesis": [h for _, h in pairs], "label": [i % 3 for i in range(30)]}
    )
    assert (
        add_aux_columns(ds, teacher=None, debias="none", cache_dir=tmp_path, max_length=64).column_names
        == ds.column_names
    )
    both = add_aux_columns(ds, teacher=str(stance_model_dir), debias="poe", cache_dir=tmp_path, max_length=64)
    assert {"teacher_logits", "bias_log_probs"} <= set(both.column_names)
    assert len(both[0]["teacher_logits"]) == 3 and len(both[0]["bias_log_probs"]) == 3
    with pytest.raises(ValueError, match="train.debias"):
        add_aux_columns(ds, teacher=None, debias="yes", cache_dir=tmp_path, max_length=64)
    # The no-evidence flag comes from the pairs' sources, and only when asked for.
    sources = [f"snli{NO_EVIDENCE_TAG}" if i % 5 == 0 else "snli" for i in range(30)]
    tagged = ds.add_column("source", sources)
    plain = add_aux_columns(tagged, teacher=None, debias="none", cache_dir=tmp_path, max_length=64)
    assert "uniform_target" not in plain.column_names
    flagged = add_aux_columns(
        tagged, teacher=None, debias="none", cache_dir=tmp_path, max_length=64, no_evidence_target="uniform"
    )
    assert flagged["uniform_target"] == [float(i % 5 == 0) for i in range(30)]
    # Balanced class weights count the no-evidence pairs as neutral only when they learn that label.
    assert weighted_labels(tagged, "label") == tagged["label"]
    assert weighted_labels(tagged, "uniform") == [label for i, label in enumerate(tagged["label"]) if i % 5]
    with pytest.raises(ValueError, match="train.no_evidence_target"):
        add_aux_columns(tagged, teacher=None, debias="none", cache_dir=tmp_path, max_length=64, no_evidence_target="x")


def test_the_teacher_scores_only_the_pairs_that_read_its_term(stance_model_dir, tmp_path, monkeypatch):
    # With the uniform target, the no-evidence pairs never read the teacher's term: they are not scored.
    pairs = shuffled_sample_pairs()[:30]
    ds = Dataset.from_dict(
        {
            "premise": [p for p, _ in pairs],
            "hypothesis": [h for _, h in pairs],
            "label": [i % 3 for i in range(30)],
            "source": [f"snli{NO_EVIDENCE_TAG}" if i % 5 == 0 else "snli" for i in range(30)],
        }
    )
    args = dict(teacher=str(stance_model_dir), debias="none", cache_dir=tmp_path, max_length=64)
    labelled = [i for i in range(30) if i % 5]
    calls = count_teacher_calls(monkeypatch)
    uniform = np.asarray(add_aux_columns(ds, no_evidence_target="uniform", **args)["teacher_logits"])
    assert calls == [24]
    assert not uniform[::5].any()
    # With the label target every pair learns from the teacher: the 6 others are scored now, the rest cached.
    label = np.asarray(add_aux_columns(ds, no_evidence_target="label", **args)["teacher_logits"])
    assert calls == [24, 6]
    np.testing.assert_allclose(uniform[labelled], label[labelled], atol=1e-6)


def test_template_pairs_kept_from_the_teacher_are_not_scored_and_weigh_zero(stance_model_dir, tmp_path, monkeypatch):
    # train.teacher_on_templates=false: capability pairs (source capability_aug:<family>) learn their gold
    # label alone; the teacher scores the other pairs only, and the no-evidence ones stay uniform.
    pairs = shuffled_sample_pairs()[:30]
    sources = ["snli"] * 30
    for i in range(0, 30, 4):
        sources[i] = f"{SOURCE_PREFIX}:numbers"
    sources[2] = f"{SOURCE_PREFIX}:empty_evidence{NO_EVIDENCE_TAG}"
    ds = Dataset.from_dict(
        {
            "premise": [p for p, _ in pairs],
            "hypothesis": [h for _, h in pairs],
            "label": [i % 3 for i in range(30)],
            "source": sources,
        }
    )
    args = dict(teacher=str(stance_model_dir), debias="none", cache_dir=tmp_path, max_length=64)
    calls = count_teacher_calls(monkeypatch)
    kept = add_aux_columns(ds, no_evidence_target="uniform", teacher_on_templates=False, **args)
    templates = [i for i in range(30) if sources[i].startswith(f"{SOURCE_PREFIX}:")]
    assert calls == [30 - len(templates)]
    weight = np.asarray(kept["teacher_weight"])
    assert weight[templates].sum() == 0 and weight[[i for i in range(30) if i not in templates]].min() == 1
    assert not np.asarray(kept["teacher_logits"])[templates].any()
    assert np.asarray(kept["uniform_target"])[2] == 1
    # The default keeps the teacher on every pair: no weight column, and the templates are scored too.
    default = add_aux_columns(ds, no_evidence_target="label", **args)
    assert "teacher_weight" not in default.column_names
    assert calls == [30 - len(templates), len(templates)]


def test_keeping_templates_from_a_teacher_that_is_not_there_is_said(tmp_path, caplog):
    ds = Dataset.from_dict({"premise": ["a"], "hypothesis": ["b"], "label": [0], "source": ["snli"]})
    with caplog.at_level("WARNING", logger="stancekit.train.objectives"):
        kept = add_aux_columns(
            ds, teacher=None, debias="none", cache_dir=tmp_path, max_length=64, teacher_on_templates=False
        )
    assert kept.column_names == ds.column_names
    assert "has no effect without train.teacher" in caplog.text


def test_the_bias_model_is_fitted_only_on_the_pairs_that_learn_a_label(tmp_path):
    # Claims with "never" are contradictions; each has a blanked copy (same claim, neutral, tagged) as
    # data.augment.blank_premise makes. Fitted on the copies too, the bias model would half-unlearn "never".
    rng = np.random.default_rng(0)
    words = ["cat", "dog", "park", "river", "music", "bread", "street", "market"]
    rows = []
    for i in range(120):
        label = i % 3
        claim = ("never " if label == LABEL2ID["contradict"] else "") + " ".join(rng.choice(words, 4))
        rows.append({"premise": f"p {i}", "hypothesis": claim, "label": label, "source": "snli"})
        if label == LABEL2ID["contradict"]:
            rows.append(
                {"premise": "", "hypothesis": claim, "label": LABEL2ID["neutral"], "source": "snli" + NO_EVIDENCE_TAG}
            )
    ds = Dataset.from_list(rows)
    args = dict(teacher=None, debias="poe", cache_dir=tmp_path, max_length=64, seed=0)
    kept = add_aux_columns(ds, no_evidence_target="uniform", **args)
    labelled = [i for i, r in enumerate(rows) if NO_EVIDENCE_TAG not in r["source"]]
    expected = bias_log_probs([rows[i]["hypothesis"] for i in labelled], [rows[i]["label"] for i in labelled], seed=0)
    np.testing.assert_allclose(np.asarray(kept["bias_log_probs"])[labelled], expected, atol=1e-6)
    blanked = [i for i in range(len(rows)) if i not in set(labelled)]
    np.testing.assert_allclose(np.asarray(kept["bias_log_probs"])[blanked], np.log(1 / 3), atol=1e-6)
    # With the label target the copies learn neutral, so the bias model sees them, and "never" weakens.
    mixed = np.exp(np.asarray(add_aux_columns(ds, no_evidence_target="label", **args)["bias_log_probs"]))
    never = [i for i in labelled if rows[i]["label"] == LABEL2ID["contradict"]]
    contradict = LABEL2ID["contradict"]
    assert (
        np.exp(expected)[[labelled.index(i) for i in never], contradict].mean() > mixed[never, contradict].mean() + 0.1
    )


def spy_on_loss(monkeypatch) -> list[dict]:
    """The per-pair columns (``aux``) the recipe's loss receives, one dict per call, in call order."""
    import stancekit.train.recipe as recipe

    calls: list[dict] = []

    def spying_make_loss(*args, **kwargs):
        inner = make_loss(*args, **kwargs)

        def loss(outputs, labels, num_items_in_batch=None, **aux):
            calls.append(aux)
            return inner(outputs, labels, num_items_in_batch, **aux)

        return loss

    monkeypatch.setattr(recipe, "make_loss", spying_make_loss)
    return calls


def test_recipe_trains_a_distilled_debiased_student_and_the_loss_sees_both_columns(
    tiny_model_dir, stance_model_dir, tmp_path, monkeypatch
):
    calls = spy_on_loss(monkeypatch)
    extra = [f"train.teacher={stance_model_dir}", "train.debias=poe", f"paths.cache_dir={tmp_path / 'cache'}"]
    result = train(compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path / "run", extra)))
    seen = [{k for k, v in aux.items() if v is not None} for aux in calls]
    assert seen and all(s == {"teacher_logits", "bias_log_probs"} for s in seen[:3]), seen[:3]
    assert store_files(tmp_path / "cache")
    config = (tmp_path / "run" / "config.yaml").read_text()
    assert "debias: poe" in config and str(stance_model_dir) in config
    card = (result.model_dir / "README.md").read_text()
    assert "product of experts" in card and f"distilled from `{stance_model_dir}`" in card
    # The validation split gets its own diagnosis report beside the test report.
    validation = json.loads((tmp_path / "run" / "validation" / "metrics.json").read_text())["sets"]["validation"]
    assert "confident_errors" in validation and (tmp_path / "run" / "validation" / "report.md").exists()
    # The saved student loads alone, with the usual labels.
    meta = json.loads((result.model_dir / "config.json").read_text())
    assert list(meta["id2label"].values()) == ["support", "contradict", "neutral"]


def test_recipe_keeps_the_template_pairs_from_the_teacher_when_asked(
    tiny_model_dir, stance_model_dir, tmp_path, monkeypatch
):
    calls = spy_on_loss(monkeypatch)
    extra = [
        f"train.teacher={stance_model_dir}",
        "train.teacher_on_templates=false",
        "data.augment.capabilities=0.5",
        f"paths.cache_dir={tmp_path / 'cache'}",
    ]
    result = train(compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path / "run", extra)))
    weights = [aux.get("teacher_weight") for aux in calls]
    # Training batches carry the weights (validation batches, scored for their loss too, have none); the
    # template pairs (a third of the training set) weigh 0, the rest 1.
    assert weights and weights[0] is not None and any(w is None for w in weights)
    seen = torch.cat([w.flatten() for w in weights if w is not None])
    assert set(seen.tolist()) == {0.0, 1.0}
    assert "teacher_on_templates: false" in (tmp_path / "run" / "config.yaml").read_text()
    assert "capability pairs on their gold labels alone" in (result.model_dir / "README.md").read_text()


def test_recipe_gives_the_blanked_premises_equal_probability_targets(tiny_model_dir, tmp_path, monkeypatch):
    calls = spy_on_loss(monkeypatch)
    extra = ["data.augment.blank_premise=0.5", "train.no_evidence_target=uniform"]
    result = train(compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path / "run", extra)))
    seen = [aux.get("uniform_target") for aux in calls]
    # Training batches carry the flags, some set and some not (a third of the 360 training pairs are blanked);
    # validation batches have no blanked pairs, so no flags.
    flags = torch.cat([s for s in seen if s is not None])
    assert 0 < flags.sum() < len(flags)
    assert "equal probabilities as the target of pairs without evidence" in (result.model_dir / "README.md").read_text()
