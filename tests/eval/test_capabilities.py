"""The capability suite: labels right by construction, deterministic, an oracle passes and a constant fails."""

from __future__ import annotations

import re

import numpy as np
import pytest

from stancekit.eval.capabilities import CONTENT_FREE, GENERATORS, generate_suite, mean_pass_rate, run_suite
from stancekit.labels import LABEL2ID, LABELS

SUITE = generate_suite(0)


def test_suite_is_a_few_hundred_pairs_and_deterministic():
    total = sum(len(cases) for cases in SUITE.values())
    assert 200 <= total <= 600
    assert generate_suite(0) == SUITE and generate_suite(1) != SUITE
    assert set(SUITE) == set(GENERATORS)
    for cases in SUITE.values():
        assert cases and all(c.expected in LABELS or c.expected in ("not_confident", "no_stance") for c in cases)


def test_negation_labels():
    for c in SUITE["negation"]:
        negated_hyp = " not " in c.hypothesis
        refused = "refused" in c.premise or "would not" in c.premise
        # Contradiction iff exactly one side denies the event.
        assert (c.expected == "contradict") == (negated_hyp != refused), c


def test_numbers_labels():
    for c in SUITE["numbers"]:
        n = int(re.search(r"said (\d+) people", c.premise).group(1))
        m = int(re.search(r"(\d+) people attended the protest in", c.hypothesis).group(1))
        if c.hypothesis.startswith("More than"):
            truth = n > m
        elif c.hypothesis.startswith("Fewer than"):
            truth = n < m
        else:
            truth = n == m
        assert c.expected == ("support" if truth else "contradict"), c


def test_dates_labels():
    for c in SUITE["dates"]:
        year = int(re.search(r" in (\d{4}),", c.premise).group(1))
        if "before the election" in c.hypothesis:
            assert c.expected == "support"
        elif "after the election" in c.hypothesis:
            assert c.expected == "contradict"
        else:
            claimed = int(re.search(r"in (\d{4})\.", c.hypothesis).group(1))
            assert c.expected == ("support" if claimed == year else "contradict"), c


def test_entity_swap_labels():
    for c in SUITE["entity_swap"]:
        winner, loser = re.match(r"(.+) defeated (.+) 3-1", c.premise).groups()
        if " defeated " in c.hypothesis:
            claimed_winner = c.hypothesis.split(" defeated ")[0]
            truth = claimed_winner.lower() == winner.lower()
        elif " lost to " in c.hypothesis:
            truth = c.hypothesis.split(" lost to ")[0].lower() == loser.lower()
        else:
            truth = c.hypothesis.split(" won ")[0].lower() == winner.lower()
        assert c.expected == ("support" if truth else "contradict"), c


def test_quantifier_labels():
    table = {
        ("All", "Some", "against"): "contradict",
        ("All", "None", "for"): "contradict",
        ("All", "Some", "for"): "support",
        ("None", "", "for"): "contradict",
        ("Some", "All", "for"): "neutral",
    }
    for c in SUITE["quantifiers"]:
        p_q = c.premise.split()[0]
        h_q = c.hypothesis.split()[0] if c.hypothesis.split()[0] in {"Some", "None", "All"} else ""
        direction = "against" if "against" in c.hypothesis else "for"
        assert table[(p_q, h_q, direction)] == c.expected, c


def test_symmetry_and_paraphrase_groups():
    groups = {}
    for c in SUITE["symmetry"]:
        groups.setdefault(c.group, []).append(c)
    for a, b in groups.values():
        assert (a.premise, a.hypothesis) == (b.hypothesis, b.premise) and a.expected == b.expected == "contradict"
    para = {}
    for c in SUITE["paraphrase"]:
        para.setdefault(c.group, []).append(c)
    for a, b in para.values():
        assert a.hypothesis == b.hypothesis and a.premise != b.premise and a.expected == b.expected


def test_irrelevant_and_blank_premise_probes():
    for c in SUITE["irrelevant_evidence"]:
        assert c.expected == "neutral" and len(c.premise.split()) >= 35  # 4-7 sentences
        names = set(re.findall(r"[A-Z][a-z]+", c.hypothesis)) - {"The"}
        assert names and not names & set(re.findall(r"[A-Z][a-z]+", c.premise)), c
    assert all(c.premise == "" and c.expected == "not_confident" for c in SUITE["premise_blanked"])


def test_reported_speech_labels():
    cases = SUITE["reported_speech"]
    assert {c.expected for c in cases} == {"support", "contradict", "neutral"}
    for c in cases:
        assert c.hypothesis[:-1].lower() in c.premise.lower(), c  # the claim is the reported clause
        if " denied " in c.premise or " not true " in c.premise:
            assert c.expected == "contradict", c
        elif " confirmed " in c.premise:
            assert c.expected == "support", c
        else:
            assert " comment " in c.premise and c.expected == "neutral", c
        speaker = c.premise.split(" denied ")[0].split(" said ")[0].split(" confirmed ")[0].split(" refused ")[0]
        assert speaker.lower() not in c.hypothesis.lower(), c  # nobody reports on themselves


def oracle(pairs):
    """Predicts each constructed label with certainty (uniform for the blank premise)."""
    lookup = {(c.premise, c.hypothesis): c.expected for cases in SUITE.values() for c in cases}
    out = []
    for pair in pairs:
        expected = lookup[pair]
        if expected == "no_stance":
            expected = "neutral"
        row = np.full(3, 1 / 3) if expected == "not_confident" else np.eye(3)[LABEL2ID[expected]]
        out.append(row)
    return np.array(out)


def test_an_oracle_passes_everything():
    result = run_suite(oracle)
    assert all(cap["pass_rate"] == 1.0 for cap in result.values()), {k: v["pass_rate"] for k, v in result.items()}
    assert mean_pass_rate(result) == 1.0


def test_always_support_fails_where_it_should():
    result = run_suite(lambda pairs: np.tile([0.98, 0.01, 0.01], (len(pairs), 1)))
    assert result["symmetry"]["pass_rate"] == 0.0
    assert result["irrelevant_evidence"]["pass_rate"] == 0.0
    assert result["premise_blanked"]["pass_rate"] == 0.0  # confident with no evidence
    assert result["content_free_evidence"]["pass_rate"] == 0.0  # a confident support with nothing to go on
    assert result["paraphrase"]["pass_rate"] == 1.0  # consistent, if useless
    n_support = sum(c.expected == "support" for c in SUITE["numbers"])
    assert result["numbers"]["pass_rate"] == pytest.approx(n_support / len(SUITE["numbers"]))
    failure = result["symmetry"]["failures"][0]
    assert failure["predicted"] == "support" and failure["expected"] == "contradict"


def test_content_free_evidence_allows_neutral_but_no_confident_stance():
    cases = SUITE["content_free_evidence"]
    assert cases and all(c.premise in CONTENT_FREE and c.expected == "no_stance" for c in cases)
    confident_neutral = run_suite(lambda pairs: np.tile([0.02, 0.03, 0.95], (len(pairs), 1)))
    assert confident_neutral["content_free_evidence"]["pass_rate"] == 1.0
    assert confident_neutral["premise_blanked"]["pass_rate"] == 0.0  # the stricter probe: no confident label
    unsure = run_suite(lambda pairs: np.tile([0.45, 0.40, 0.15], (len(pairs), 1)))
    assert unsure["content_free_evidence"]["pass_rate"] == 1.0  # a support below the threshold claims nothing
    contradicting = run_suite(lambda pairs: np.tile([0.1, 0.6, 0.3], (len(pairs), 1)))
    assert contradicting["content_free_evidence"]["pass_rate"] == 0.0
