"""One-word contrasts: the right label by construction, both directions, balanced, nothing the capability suite
tests with, and wired into the training split only."""

from __future__ import annotations

import re
from collections import Counter

from stancekit.data import build_splits
from stancekit.data.minimal_pairs import OPPOSITES, SWAPS, SYNONYMS, minimal_pairs, swap, swappable_word
from stancekit.eval import capabilities as suite
from stancekit.eval import capability_vocabulary as vocab
from stancekit.labels import LABEL2ID
from tests.helpers import compose_config

SENTENCES = [
    "A man is sitting on a bench.",
    "Two kids are laughing at a clown.",
    "The big dog runs through the park.",
    "A woman is buying fruit at a market.",
    "Children play in the snow.",
    "A happy couple walks on the beach.",
    "A girl quickly climbs the ladder.",
    "An expensive watch lies on the table.",
    "A small boat crosses the lake.",
    "The street is busy after the storm.",
]


def _pairs(sentences: list[str]) -> list[dict]:
    return [
        {"id": str(i), "premise": s, "hypothesis": "Someone is there.", "label": i % 3, "source": "snli"}
        for i, s in enumerate(sentences)
    ]


def test_one_word_decides_the_label():
    assert swappable_word("A man is sitting on a bench.") == "sitting"
    assert swap("Sitting on a bench, a man reads.", "sitting", "standing") == "Standing on a bench, a man reads."
    assert swap("An expensive car.", "expensive", "cheap") == "A cheap car."
    assert swap("He has a cheap car.", "cheap", "expensive") == "He has an expensive car."
    assert swappable_word("He stayed as far from Small as he could.") is None  # a name, not the adjective
    # Negation, alternatives, comparisons and two cue words turn a swap around or make it unclear.
    for sentence in [
        "A man is not sitting.",
        "The kid doesn't smile.",
        "A dog is sitting or standing.",
        "A big dog is bigger than a cat.",
        "A big dog and a small cat.",
        "Two children are laughing.",
        "A man might be sitting on a bench.",
        "A man cannot be sitting.",
        "A man is sitting down.",
        "The most expensive watch.",
        "The children's toys are on the floor.",  # a possessive, a compound or digits are no cue
        "An ill-advised trip.",
        "The big5 store.",
    ]:
        assert swappable_word(sentence) is None, sentence
    # Opposites contradict and synonyms support: each table's swap is its own inverse.
    for label, table in [("contradict", OPPOSITES), ("support", SYNONYMS)]:
        swaps = SWAPS[LABEL2ID[label]]
        assert all(swaps[a] == b and swaps[b] == a for a, b in table)


def test_contrasts_come_in_both_directions_balanced_and_from_the_training_sentences():
    pairs = _pairs(SENTENCES)
    out = minimal_pairs(pairs, 2.0, seed=0)
    assert out == minimal_pairs(pairs, 2.0, seed=0) and out != minimal_pairs(pairs, 2.0, seed=1)
    labels = Counter(p["label"] for p in out)
    assert set(labels) == {LABEL2ID["contradict"], LABEL2ID["support"]}
    assert labels[LABEL2ID["contradict"]] == labels[LABEL2ID["support"]] >= 4
    by_pair = {(p["premise"], p["hypothesis"]): p["label"] for p in out}
    assert all(by_pair[(b, a)] == label for (a, b), label in by_pair.items())  # the reverse is there too
    for p in out:
        original = p["premise"] if p["premise"] in SENTENCES else p["hypothesis"]
        other = p["hypothesis"] if original == p["premise"] else p["premise"]
        assert original in SENTENCES and other not in SENTENCES
        diff = [(a, b) for a, b in zip(original.split(), other.split()) if a != b]
        # Exactly one word differs, and at most the article before it ("An expensive" / "A cheap").
        articles = [d for d in diff if {d[0].lower(), d[1].lower()} == {"a", "an"}]
        diff = [d for d in diff if d not in articles]
        assert len(diff) == 1 and len(articles) <= 1 and len(original.split()) == len(other.split())
        word, replacement = (re.sub(r"\W", "", w).lower() for w in diff[0])
        assert SWAPS[p["label"]][word] == replacement
        assert p["source"] == "snli+minimal_pair"
    assert len({p["id"] for p in out}) == len(out)
    # Whole units only: a target that is no multiple of four rounds down, keeping both labels and directions.
    assert len(minimal_pairs(pairs, 0.4, seed=0)) == 4 and len(minimal_pairs(pairs, 0.7, seed=0)) == 4
    assert minimal_pairs(pairs, 0.0, seed=0) == [] and minimal_pairs(pairs, 0.3, seed=0) == []


def test_no_word_the_capability_suite_tests_with():
    words = {w for pair in OPPOSITES + SYNONYMS for w in pair}
    suite_text = " ".join(
        [c.premise + " " + c.hypothesis for cases in suite.generate_suite(0).values() for c in cases]
        + [" ".join(t) for t in vocab.ANTONYMS]
    ).lower()
    suite_words = set(re.findall(r"[a-z]+", suite_text))
    # Everyday function words and nouns may coincide; the verbs and adjectives the suite's antonym, symmetry and
    # date probes turn on must not.
    probed = {"won", "lost", "raised", "lowered", "approved", "rejected", "opened", "closed"}
    probed |= {"before", "after", "more", "fewer", "increased", "cut", "hired"}
    assert probed <= suite_words  # the list above names real suite words
    assert not words & probed
    shared = words & suite_words
    assert not shared, f"table words that the capability suite uses: {sorted(shared)}"


def test_training_split_gets_contrasts_and_validation_none():
    cfg = compose_config("train", ["paths.output_dir=/tmp/x", "data.augment.minimal_pairs=0.1"])
    splits = build_splits(cfg.data, cfg.paths.data_root)
    added = splits.summary["train"]["+ one-word contrasts"]["n"]
    assert 0 < added <= 24 and len(splits.train) == 240 + added
    assert sum(s.endswith("+minimal_pair") for s in splits.train["source"]) == added
    for dataset in [splits.validation, *splits.test.values()]:
        assert not any(s.endswith("+minimal_pair") for s in dataset["source"])
