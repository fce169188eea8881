"""StanceClassifier: sorted batches in input order, threads, bad pairs named, long pairs truncated and counted,
abstention."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from stancekit import StanceClassifier
from stancekit.infer.classifier import WARM_UP_PAIRS
from stancekit.labels import ID2LABEL, LABEL2ID, LABELS
from stancekit.models.encoding import TruncationWarning, count_over_length
from stancekit.system import cpu_has_native_bf16, default_num_threads
from tests.helpers import shuffled_sample_pairs

PAIRS = shuffled_sample_pairs()


def test_sorted_batches_come_back_in_input_order_and_equal_one_by_one(clf):
    lengths = [len(clf.tokenizer(p, h)["input_ids"]) for p, h in PAIRS]
    assert lengths != sorted(lengths), "the test needs pairs that sorting reorders"
    batched = clf.predict_logits(PAIRS)
    one_by_one = np.stack([clf.predict_logits([pair])[0] for pair in PAIRS])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    assert clf.predict(PAIRS) == [LABELS[int(i)] for i in one_by_one.argmax(axis=1)]
    # Another batch size forms other batches, with the same answers.
    np.testing.assert_allclose(clf.predict_logits(PAIRS, batch_size=64), batched, atol=1e-5)


def test_padding_to_a_multiple_rounds_batch_shapes_within_max_length_and_keeps_answers(stance_model_dir):
    plain = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", max_length=100, precision="fp32")
    rounded = StanceClassifier.from_pretrained(
        stance_model_dir, device="cpu", max_length=100, precision="fp32", pad_to_multiple_of=16
    )
    widths = []
    original = rounded._batch_logits
    rounded._batch_logits = lambda batch, bf16=False: widths.append(batch["input_ids"].shape[1]) or original(batch)
    long_pair = ("the council met again on monday . " * 20, "the council met .")
    pairs = PAIRS + [long_pair]
    with pytest.warns(TruncationWarning):
        np.testing.assert_allclose(rounded.predict_logits(pairs, batch_size=4), plain.predict_logits(pairs), atol=1e-5)
    # Every batch a multiple of 16 but the longest, which stops at max_length (no positions past it).
    assert widths[-1] == 100 and all(w % 16 == 0 for w in widths[:-1]) and len(set(widths[:-1])) > 1, widths
    with pytest.raises(ValueError, match="pad_to_multiple_of"):
        StanceClassifier.from_pretrained(stance_model_dir, device="cpu", pad_to_multiple_of=0)


@pytest.mark.parametrize("precision", ["fp32", "bf16", "bf16-checked"])
def test_warm_up_runs_one_pair_and_several_in_each_precision_a_call_uses(stance_model_dir, precision):
    if precision != "fp32" and not cpu_has_native_bf16():
        pytest.skip("bf16 needs a CPU with native bf16")
    clf = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", precision=precision)
    before = clf.predict_logits(PAIRS)
    passes, original = [], clf._batch_logits

    def counted(batch, bf16=False):
        passes.append((batch["input_ids"].shape[0], bf16))
        return original(batch, bf16)

    clf._batch_logits = counted
    assert clf.warm_up() > 0
    # bf16-checked runs both (bf16, then fp32 for the close calls); each precision with a lone pair and a batch.
    expected = {"fp32": [False], "bf16": [True], "bf16-checked": [True, False]}[precision]
    assert sorted(set(passes)) == sorted((n, bf16) for n in (1, len(WARM_UP_PAIRS)) for bf16 in expected)
    clf._batch_logits = original
    np.testing.assert_array_equal(clf.predict_logits(PAIRS), before)  # nothing it ran changes an answer


def test_batches_are_cut_where_padding_costs_more_than_a_pass(clf, monkeypatch):
    def cuts(lengths, batch_size=32):
        enc = {"input_ids": [[0] * n for n in lengths]}
        order = np.argsort(lengths, kind="stable")
        batches = clf._batches(enc, order, batch_size)
        assert np.array_equal(np.concatenate(batches), order)  # every pair once, in length order
        return [[lengths[i] for i in b] for b in batches]

    monkeypatch.setattr(clf, "pass_overhead_tokens", 64)
    # 5 short and 3 long pairs: one batch pads the short ones to 100 (800 tokens + 64); two cost 50 + 300 + 128.
    assert cuts([100, 10, 10, 100, 10, 10, 100, 10]) == [[10] * 5, [100] * 3]
    # Lengths close together fill whole batches: 70 pairs of one length take the fewest passes.
    assert [len(b) for b in cuts([20] * 70)] in ([32, 32, 6], [6, 32, 32], [32, 6, 32])
    assert max(len(b) for b in cuts(list(range(10, 200)), batch_size=8)) <= 8
    # The token budget caps each batch: 300-token pairs go 3 at a time under 1,000 tokens, a longer one alone.
    monkeypatch.setattr(clf, "max_batch_tokens", 1000)
    batches = cuts([300] * 7 + [1500])
    assert sorted(len(b) for b in batches[:-1]) == [1, 3, 3] and batches[-1] == [1500]
    monkeypatch.setattr(clf, "max_batch_tokens", None)  # no budget: the cost alone cuts
    assert cuts([100, 10, 10, 100, 10, 10, 100, 10]) == [[10] * 5, [100] * 3]
    monkeypatch.setattr(clf, "pass_overhead_tokens", None)  # fixed batch_size, as before
    assert [len(b) for b in cuts([100, 10, 10, 100, 10, 10, 100, 10], batch_size=4)] == [4, 4]


def test_thread_count_is_an_option(stance_model_dir):
    before = torch.get_num_threads()
    try:
        assert 1 <= default_num_threads() <= (os.cpu_count() or 1)
        one = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", num_threads=1)
        assert one.num_threads == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


TWO_PAIRS = [("the council met on monday .", "the council met ."), ("the bridge is closed .", "the bridge is open .")]


@pytest.mark.parametrize(
    "pairs,problem",
    [
        (None, "expected a list of"),
        ("just a string", "expected a list of"),
        (("premise", "hypothesis"), "expected a list of"),
        ([("a", "b"), ("a", None)], "pair 1, hypothesis: expected text, got NoneType"),
        ([(3, "b")], "pair 0, premise: expected text, got int"),
        ([("a", "b"), ("\n ", "b")], "pair 1, premise: empty text"),
        ([("a", "b", "c")], r"pair 0: expected \(premise, hypothesis\)"),
        ([{"premise": "a", "hypothesis": "b"}], r"pair 0: expected \(premise, hypothesis\)"),
    ],
)
def test_api_rejects_bad_pairs_naming_the_pair_and_field(stance_model_dir, pairs, problem):
    clf = StanceClassifier.from_pretrained(stance_model_dir, device="cpu")
    with pytest.raises(ValueError, match=problem):
        clf.predict(pairs)


def test_long_pairs_are_truncated_counted_and_warned_not_refused(stance_model_dir):
    clf = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", max_length=32)
    long_pair = ("the council met again on monday . " * 100, "the council met .")
    with pytest.warns(TruncationWarning, match="1 of 2 pairs are longer than 32 tokens"):
        labels = clf.predict([TWO_PAIRS[0], long_pair])
    assert len(labels) == 2
    assert count_over_length(clf.tokenizer, [TWO_PAIRS[0][0], long_pair[0]], [TWO_PAIRS[0][1], long_pair[1]], 32) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)
        clf.predict(TWO_PAIRS)  # nothing truncated, nothing said


def test_chunks_bound_memory_without_changing_an_answer(stance_model_dir, monkeypatch):
    clf = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", max_length=32, precision="fp32")
    long_pair = ("the council met again on monday . " * 100, "the council met .")
    pairs = shuffled_sample_pairs()[:23] + [long_pair] * 3
    whole = clf.predict_logits(pairs)
    monkeypatch.setattr(clf, "chunk_size", 5)  # 6 chunks, the long pairs in the last one
    over = count_over_length(clf.tokenizer, [p for p, _ in pairs], [h for _, h in pairs], 32)
    assert over >= 3
    with pytest.warns(TruncationWarning, match=f"{over} of 26 pairs") as caught:
        chunked = clf.predict_logits(pairs)
    assert len([w for w in caught if w.category is TruncationWarning]) == 1  # one warning for the call
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-6)


def test_abstention_flag(tiny_model_dir):

    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_model_dir, num_labels=3, id2label=ID2LABEL, label2id=LABEL2ID
    )
    clf = StanceClassifier(model, AutoTokenizer.from_pretrained(tiny_model_dir), device="cpu")
    pairs = [("the council approved the budget", "the budget was approved")] * 2
    # A random model is unsure: every top probability is well under 0.9 ...
    kept = clf.classify(pairs, min_confidence=0.0)
    flagged = clf.classify(pairs, min_confidence=0.9)
    assert [p.abstained for p in kept] == [False, False]
    assert [p.abstained for p in flagged] == [True, True]
    # ... abstentions are kept, with their label and probabilities, not dropped.
    assert [p.label for p in flagged] == [p.label for p in kept] == clf.predict(pairs)
    assert sum(flagged[0].probabilities.values()) == pytest.approx(1.0)
    # A higher temperature flattens the probabilities without changing labels.
    clf.temperature = 5.0
    assert clf.classify(pairs)[0].confidence < kept[0].confidence
    assert clf.predict(pairs) == [p.label for p in kept]
