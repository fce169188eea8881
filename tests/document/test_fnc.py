"""The FNC-1 view: the official weighted score, the unrelated rules and the relatedness gate."""

from __future__ import annotations

import numpy as np
import pytest

from stancekit.document import resolve_options
from stancekit.document.fnc import (
    choose_relatedness_threshold,
    fnc_metrics,
    fnc_score,
    lexical_relatedness,
    to_fnc_labels,
)
from stancekit.labels import LABELS


def test_fnc_score_on_a_hand_computed_example():
    gold = ["agree", "disagree", "discuss", "unrelated", "unrelated", "agree"]
    pred = ["agree", "discuss", "discuss", "unrelated", "agree", "unrelated"]
    # 1.0 (exact related) + 0.25 (related, wrong label) + 1.0 + 0.25 (unrelated) + 0 + 0 = 2.5 of 4.5
    score = fnc_score(gold, pred)
    assert score == {"raw": 2.5, "max": 4.5, "percent": pytest.approx(100 * 2.5 / 4.5)}
    assert fnc_score(gold, gold)["percent"] == 100.0
    with pytest.raises(ValueError, match="not FNC-1 labels"):
        fnc_score(["agree"], ["support"])

    block = fnc_metrics(gold, pred, [0, 2, 2, 2, 0, 2])
    # agree: P 1/2, R 1/2; disagree: 0; discuss: P 1/2, R 1; unrelated: P 1/2, R 1/2
    f1 = {lab: b["f1"] for lab, b in block["per_class"].items()}
    assert f1 == pytest.approx({"agree": 0.5, "disagree": 0.0, "discuss": 2 / 3, "unrelated": 0.5})
    assert block["macro_f1"] == pytest.approx((0.5 + 0 + 2 / 3 + 0.5) / 4)
    assert block["relatedness"]["accuracy"] == pytest.approx(4 / 6)
    assert block["all_unrelated_percent"] == pytest.approx(100 * 0.5 / 4.5)
    # Related-only: gold agree/disagree/discuss/agree as support/contradict/neutral/support, ours 0,2,2,2.
    related = block["related_only"]
    assert related["n"] == 4 and related["accuracy"] == pytest.approx(2 / 4)
    assert block["confusion_matrix"]["matrix"][1] == [0, 0, 1, 0]


def test_unrelated_rules():
    ours = [0, 1, 2, 2]  # support, contradict, neutral, neutral
    assert to_fnc_labels(ours, None, "neutral", 0.07) == ["agree", "disagree", "unrelated", "unrelated"]
    assert to_fnc_labels(ours, [0.5, 0.01, 0.3, 0.0], "lexical", 0.07) == [
        "agree",
        "unrelated",
        "discuss",
        "unrelated",
    ]
    with pytest.raises(ValueError, match="unrelated_rule"):
        to_fnc_labels(ours, None, "oracle", 0.07)
    scores = lexical_relatedness(
        ["Bridge to reopen in May", "Bridge to reopen in May"],
        ["The bridge will reopen in May, officials said.", "A comet was seen over the hills."],
    )
    assert scores[0] > 0.3 and scores[1] == 0.0


def test_relatedness_gate_keeps_unrelated_pairs_from_the_model():
    from stancekit.document.fnc import DocumentLogProbs

    seen: list[tuple[str, str]] = []

    def scorer(pairs):
        seen.extend(pairs)
        return np.tile([0.8, 0.1, 0.1], (len(pairs), 1))  # everything "supports"

    body = "The ministry said the bridge will reopen in May. Traffic will resume."
    pairs = [(body, "Bridge to reopen in May"), ("A comet was seen over the hills.", "Bridge to reopen in May")]
    gated = DocumentLogProbs(scorer, resolve_options(), gate=0.07)
    logits = gated(pairs)
    assert {claim for _, claim in seen} == {"Bridge to reopen in May"} and all("comet" not in p for p, _ in seen)
    assert gated.gated == [{1}] and gated.calls[0][1].label == "neutral" and gated.calls[0][0].label == "support"
    assert np.argmax(logits, axis=1).tolist() == [LABELS.index("support"), LABELS.index("neutral")]
    seen.clear()
    # Without the FNC gate the pair goes to predict_documents, whose claim-overlap gate (document.
    # min_claim_overlap) still keeps the comet sentence, which shares no word with the claim, from the model:
    ungated = DocumentLogProbs(scorer, resolve_options(), gate=None)
    ungated(pairs)
    assert all("comet" not in p for p, _ in seen) and ungated.gated == [set()]
    assert ungated.calls[0][1].label == "neutral" and ungated.calls[0][1].n_units == 0
    seen.clear()
    # ... and with that gate off too, it is scored.
    ungated = DocumentLogProbs(scorer, resolve_options(min_claim_overlap=0), gate=None)
    ungated(pairs)
    assert any("comet" in p for p, _ in seen) and ungated.gated == [set()]


def test_the_gate_threshold_is_the_one_with_the_best_expected_fnc_score():
    # Four unrelated pairs at cosine 0, 0.01, 0.02, 0.06; four related ones at 0, 0.03, 0.05, 0.09.
    relatedness = [0.0, 0.01, 0.02, 0.06, 0.0, 0.03, 0.05, 0.09]
    related = [False] * 4 + [True] * 4
    best, rows = choose_relatedness_threshold(relatedness, related, stance_accuracy=1.0, thresholds=[0.0, 0.025, 0.07])
    by_t = {row["threshold"]: row for row in rows}
    # 0.0 passes all: 4 related x (0.25 + 0.75) = 4.0. 0.025 gates 3 unrelated (0.75) and passes 3 related (3.0).
    # 0.07 gates 4 unrelated (1.0) and passes 1 related (1.0).
    assert by_t[0.0]["expected_score"] == pytest.approx(4.0)
    assert by_t[0.025]["expected_score"] == pytest.approx(3.75)
    assert by_t[0.07]["expected_score"] == pytest.approx(2.0)
    assert best == 0.0
    assert by_t[0.025]["related_passed"] == pytest.approx(0.75)
    assert by_t[0.025]["unrelated_passed"] == pytest.approx(0.25)
    # A stance stage that is always wrong earns only the 0.25 of each related pair passed: 0.0 scores 1.0,
    # 0.025 scores 0.75 + 0.75 = 1.5, 0.07 scores 1.0 + 0.25 = 1.25.
    best, _ = choose_relatedness_threshold(relatedness, related, stance_accuracy=0.0, thresholds=[0.0, 0.025, 0.07])
    assert best == 0.025
    assert by_t[0.025]["relatedness_accuracy"] == pytest.approx(6 / 8)
    # Nothing lies between 0.07 and 0.08 here, so their scores tie: the lower threshold wins, in either order.
    assert choose_relatedness_threshold(relatedness, related, 1.0, thresholds=[0.08, 0.07])[0] == 0.07
    # The default grid: 0 to 0.2 in steps of 0.005.
    best, rows = choose_relatedness_threshold(relatedness, related, stance_accuracy=0.5)
    assert len(rows) == 41 and rows[0]["threshold"] == 0.0 and rows[-1]["threshold"] == 0.2
    assert best in {row["threshold"] for row in rows}
    with pytest.raises(ValueError, match="no thresholds"):
        choose_relatedness_threshold(relatedness, related, 0.5, thresholds=[])
    with pytest.raises(ValueError, match="same, non-zero length"):
        choose_relatedness_threshold([0.1], [True, False], 0.5)
    with pytest.raises(ValueError, match="stance_accuracy"):
        choose_relatedness_threshold([0.1], [True], 1.5)
