"""Document-level stance: units, aggregation rules, evidence with offsets, batching, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from stancekit import StanceClassifier
from stancekit.data.sentences import split_sentences
from stancekit.document import predict_document, predict_documents
from stancekit.labels import LABELS
from tests.helpers import CLAIM, DECISIVE, filler, long_article

NEUTRAL_P = np.array([0.1, 0.1, 0.8])
# CLAIM shares no content word with DECISIVE ("such a proposal" refers back), nor with the filler sentence
# before it, so the claim-overlap gate would drop it (tests/document/test_evidence.py shows the gate); this
# claim names the Kremlin, which DECISIVE mentions.
KREMLIN_CLAIM = "The Kremlin would not oppose European peacekeepers in Ukraine."
# Aggregation rules over every unit: the claim-overlap gate is off (it is tested in test_evidence.py).
NO_GATE = {"min_claim_overlap": 0}


class MarkerModel:
    """A classifier-like stub: contradict if the premise says "ruled out", support if it says "confirmed".

    ``max_words`` imitates a transformer's input limit: it only reads the premise's first words.
    """

    def __init__(self, max_words: int | None = None):
        self.max_words = max_words
        self.calls = 0

    def predict_proba(self, pairs):
        self.calls += 1
        out = []
        for premise, _claim in pairs:
            text = " ".join(premise.split()[: self.max_words]) if self.max_words else premise
            if "ruled out" in text:
                out.append([0.03, 0.94, 0.03])
            elif "confirmed" in text:
                out.append([0.9, 0.02, 0.08])
            else:
                out.append(NEUTRAL_P)
        return np.array(out, dtype=float)


def table_scorer(table: dict[str, list[float]]):
    """A stub callable: each unit gets the probabilities of the first key it contains, else NEUTRAL_P."""

    def predict_proba(pairs):
        return np.array([next((table[k] for k in table if k in p), NEUTRAL_P) for p, _ in pairs], dtype=float)

    return predict_proba


def test_contradicting_sentence_past_token_512_is_found_with_its_offsets():
    document = long_article()
    start = document.index(DECISIVE)
    assert len(document[:start].split()) > 512  # each word is at least one token: well past a 512-token window
    truncated = predict_document(MarkerModel(max_words=512), CLAIM, document, input="truncated")
    assert truncated.label == "neutral", "a model reading only the first 512 words misses it"
    # Selecting the sentences that share the claim's words brings it back into the window.
    selected = predict_document(
        MarkerModel(max_words=512), "Kremlin and Lavrov on the proposal", document, input="selected_sentences"
    )
    assert selected.label == "contradict" and selected.evidence == []

    result = predict_document(MarkerModel(max_words=512), KREMLIN_CLAIM, document)
    assert result.label == "contradict"
    assert max(result.probabilities, key=result.probabilities.get) == "contradict"
    assert abs(sum(result.probabilities.values()) - 1) < 1e-9
    top = result.contradicting[0]
    assert top.text == DECISIVE and (top.start, top.end) == (start, start + len(DECISIVE))
    assert document[top.start : top.end] == top.text and top.score == pytest.approx(0.94)
    # The window holding the same sentence overlaps it, so it is not repeated as evidence.
    assert len(result.contradicting) == 1 and result.supporting == []
    assert result.n_sentences == len(split_sentences(document)) > 40


def test_through_stance_classifier_with_a_stub_predict_proba(stance_model_dir):
    clf = StanceClassifier.from_pretrained(stance_model_dir, device="cpu")
    stub = MarkerModel()
    clf.predict_proba = stub.predict_proba  # the public method predict_document must go through
    document = long_article()
    result = clf.predict_document(KREMLIN_CLAIM, document)
    assert result.label == "contradict" and result.evidence[0].text == DECISIVE
    assert stub.calls == 1, "all sentences and windows of a document are scored in one batched call"
    assert [r.label for r in clf.predict_documents([(KREMLIN_CLAIM, document), (KREMLIN_CLAIM, filler(0))])] == [
        "contradict",
        "neutral",
    ]


def test_tiny_model_results_are_consistent_and_batched_equals_single(stance_model_dir):
    clf = StanceClassifier.from_pretrained(stance_model_dir, device="cpu")
    items = [
        (KREMLIN_CLAIM, long_article()),
        ("The bridge reopens in May.", "The bridge will reopen in May. Officials agree."),
    ]
    batched = clf.predict_documents(items, evidence_k=2)
    for (claim, document), result in zip(items, batched):
        single = clf.predict_document(claim, document, evidence_k=2)
        assert single.label == result.label and single.label in LABELS
        assert single.probabilities == pytest.approx(result.probabilities, abs=1e-5)
        assert [(e.start, e.end, e.label) for e in single.evidence] == [
            (e.start, e.end, e.label) for e in result.evidence
        ]
        assert max(result.probabilities, key=result.probabilities.get) == result.label
        for e in result.evidence:
            assert document[e.start : e.end] == e.text and e.score >= 0.5 and len(result.evidence) <= 4


def test_batched_equals_single_calls_across_chunks():
    model = MarkerModel()
    items = [
        (KREMLIN_CLAIM, long_article()),
        ("The deal was signed.", "Officials confirmed the deal was signed. Markets rose."),
        ("The deal was signed.", "Nothing happened today."),
        ("The sentence ruled nothing out.", "One sentence that ruled out everything"),
        ("The deal was signed.", "Officials confirmed the deal. Later they ruled out a second deal."),
    ]
    batched = predict_documents(model, items, chunk_size=2)
    assert model.calls == 3
    # "Nothing happened today." shares no word with its claim: no unit, nothing scored, neutral.
    assert batched[2].n_units == 0 and batched[2].probabilities["neutral"] == 1.0
    singles = [predict_document(model, c, d) for c, d in items]
    assert [r.to_dict() for r in batched] == [r.to_dict() for r in singles]
    assert [r.label for r in batched] == ["contradict", "support", "neutral", "contradict", "contradict"]
    # Two strong opposite pieces of evidence: both are returned, and the probabilities show the near tie.
    mixed = batched[4]
    assert {e.label for e in mixed.evidence} == {"support", "contradict"}
    assert mixed.probabilities["support"] == pytest.approx(0.9 / (0.9 + 0.94 + 0.06))


def test_threshold_and_aggregation_rules():
    document = "The plan was weak. The minister doubted it. Many others spoke. Nobody voted."
    scorer = table_scorer({"doubted": [0.05, 0.45, 0.50], "weak": [0.1, 0.42, 0.48]})
    claim = "The plan will pass."
    assert predict_document(scorer, claim, document, window_sizes=[1], **NO_GATE).label == "neutral"
    low = predict_document(scorer, claim, document, window_sizes=[1], threshold=0.4, **NO_GATE)
    assert low.label == "contradict" and [e.text for e in low.evidence] == [
        "The minister doubted it.",
        "The plan was weak.",
    ]
    one = predict_document(scorer, claim, document, window_sizes=[1], threshold=0.4, evidence_k=1, **NO_GATE)
    assert [e.text for e in one.evidence] == ["The minister doubted it."]
    # top_k_mean with k=3 averages in a neutral sentence; mean averages over all four.
    options = {"window_sizes": [1], "threshold": 0.4, "aggregation": "top_k_mean", **NO_GATE}
    top3 = predict_document(scorer, claim, document, **options)
    assert top3.label == "neutral"
    top2 = predict_document(scorer, claim, document, **options, top_k=2)
    assert top2.label == "contradict"
    mean = predict_document(scorer, claim, document, window_sizes=[1], aggregation="mean", **NO_GATE)
    expected = (np.array([0.05, 0.45, 0.50]) + np.array([0.1, 0.42, 0.48]) + 2 * NEUTRAL_P) / 4
    assert [mean.probabilities[lab] for lab in LABELS] == pytest.approx(expected)
    assert mean.label == "neutral"
    # With the gate on, only "The plan was weak." shares a word with the claim, and "The minister doubted it."
    # refers back to it (its context): both are scored; the two sentences after them are not.
    gated = predict_document(scorer, claim, document, window_sizes=[1], threshold=0.4)
    assert gated.n_units == 2 and [e.text for e in gated.evidence] == ["The minister doubted it.", "The plan was weak."]


def test_probabilities_always_agree_with_the_label():
    rng = np.random.default_rng(0)
    sentences = [f"Sentence number {i} is here." for i in range(6)]
    document = " ".join(sentences)
    for trial in range(40):
        probs = rng.dirichlet(np.ones(3), size=len(sentences))
        scorer = table_scorer({s: list(p) for s, p in zip(sentences, probs)})
        threshold = float(rng.uniform(0.2, 0.8))
        for aggregation in ("max_evidence", "top_k_mean", "mean"):
            # Every sentence shares "sentence" with the claim, so the claim-overlap gate keeps them all.
            r = predict_document(
                scorer, "A sentence.", document, window_sizes=[1], threshold=threshold, aggregation=aggregation
            )
            assert r.n_units == len(sentences)
            assert max(r.probabilities, key=r.probabilities.get) == r.label, (trial, aggregation)
            if aggregation == "max_evidence":
                strongest = max(probs[:, 0].max(), probs[:, 1].max())
                assert (r.label != "neutral") == (strongest >= threshold)


def test_windows_and_short_documents():
    scorer = table_scorer({})
    result = predict_document(scorer, "A sentence.", "Just one sentence here.", window_sizes=[2, 3])
    assert result.n_units == 1 and result.n_sentences == 1 and result.label == "neutral"
    three = predict_document(scorer, "A claim.", "One. Two. Three.", window_sizes=[1, 2], **NO_GATE)
    assert three.n_units == 3 + 2


def test_bad_input_and_options_are_rejected_clearly():
    scorer = table_scorer({})
    with pytest.raises(ValueError, match="item 0, document: empty text"):
        predict_document(scorer, "A claim.", "   ")
    with pytest.raises(ValueError, match="item 1, claim"):
        predict_documents(scorer, [("A claim.", "Text."), (None, "Text.")])
    with pytest.raises(TypeError, match="unknown document option"):
        predict_document(scorer, "A claim.", "Text.", windows=[1])
    with pytest.raises(ValueError, match="document.aggregation"):
        predict_document(scorer, "A claim.", "Text.", aggregation="vote")
    with pytest.raises(ValueError, match="document.threshold"):
        predict_document(scorer, "A claim.", "Text.", threshold=1.0)
    with pytest.raises(ValueError, match="document.skip_boilerplate"):
        predict_document(scorer, "A claim.", "Text.", skip_boilerplate="false")
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="document.min_claim_overlap"):
            predict_document(scorer, "A claim.", "Text.", min_claim_overlap=bad)
    # The claim shares "text" with the document, so the unit reaches the (bad) scorer.
    with pytest.raises(ValueError, match="not logits"):
        predict_document(lambda pairs: np.full((len(pairs), 3), 2.0), "A claim about text.", "Text.")
    with pytest.raises(ValueError, match="shape"):
        predict_document(lambda pairs: np.zeros((1, 2)), "A claim about text.", "Text.")
