"""Capability augmentation: disjoint from the capability suite, labels right by construction, deterministic,
every family with its labels, and wired into the training split only."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from stancekit.data import build_splits
from stancekit.data import capability_augment as aug
from stancekit.data.augment import NO_EVIDENCE_TAG, has_no_evidence
from stancekit.eval import capabilities as suite
from stancekit.labels import LABEL2ID, LABELS
from tests.helpers import compose_config

PAIRS = aug.capability_pairs(3000, seed=0)
SUITE_CASES = [case for seed in (0, 1, 2) for cases in suite.generate_suite(seed).values() for case in cases]


def _label(pair: dict) -> str:
    return LABELS[pair["label"]]


def _family(pair: dict) -> str:
    return pair["source"].split(":", 1)[1].removesuffix(NO_EVIDENCE_TAG)


def _bare(name: str) -> str:
    """A name without its article: "the ministry" and "ministry" are the same organisation."""
    return name[4:] if name.lower().startswith("the ") else name


# --- disjoint from the suite -------------------------------------------------------------------------------

SUITE_NAMES = {
    "people": suite.PEOPLE,
    "teams": suite.TEAMS,
    "orgs": suite.ORGS,
    "cities": suite.CITIES,
    "groups": suite.GROUPS,
    "documents": suite.DOCUMENTS,
}
AUG_NAMES = {
    "people": [*aug.FIRST_NAMES, *aug.LAST_NAMES],
    "teams": aug.TEAMS,
    "cities": aug.CITIES,
    "companies": aug.COMPANIES,
    "authorities": aug.AUTHORITIES,
    "structures": aug.STRUCTURES,
    "festivals": aug.FESTIVALS,
    "races": aug.RACES,
    "rounds": aug.ROUNDS,
    "clubs": aug.CLUBS,
    "items": aug.ITEMS,
    "awards": aug.AWARDS,
    "wires": aug.WIRES,
}
# Every suite string a training pair must not contain: names, verb phrases and filler sentences.
SUITE_VOCABULARY = sorted(
    {_bare(name).lower() for names in SUITE_NAMES.values() for name in names}
    | {phrase.lower() for triple in suite.ANTONYMS for phrase in triple}
    | {sentence.lower() for sentence in suite.FILLER}
    | {line.lower() for line in suite.CONTENT_FREE if line}
)


def test_name_lists_are_disjoint():
    suite_names = {_bare(n).lower() for names in SUITE_NAMES.values() for n in names}
    aug_names = {_bare(n).lower() for names in AUG_NAMES.values() for n in names}
    assert not suite_names & aug_names
    # Not even half a name: no first or last name, and no word of a team or city name, in common.
    suite_words = {w.lower() for n in [*suite.PEOPLE, *suite.TEAMS, *suite.CITIES] for w in _bare(n).split()}
    aug_words = {w.lower() for n in [*AUG_NAMES["people"], *aug.TEAMS, *aug.CITIES] for w in _bare(n).split()}
    assert not suite_words & aug_words


def test_no_suite_vocabulary_in_any_generated_pair():
    for seed in (0, 1):
        for pair in aug.capability_pairs(3000, seed=seed):
            text = f"{pair['premise']} || {pair['hypothesis']}".lower()
            found = [item for item in SUITE_VOCABULARY if item in text]
            assert not found, (found, pair)


def test_no_suite_text_is_an_augmentation_text():
    suite_texts = {t for c in SUITE_CASES for t in (c.premise, c.hypothesis)}
    aug_texts = {t for p in PAIRS for t in (p["premise"], p["hypothesis"])}
    # The empty premise is the one shared string: it is the absence of evidence, not a template.
    assert suite_texts & aug_texts == {""}


STOPWORDS = set(
    "a an the of in on at to by and or that for its his her their was were is be has had have it as".split()
)
# Longest first, so "Maria Lopez" goes before a shorter name inside it.
ENTITY_RE = re.compile(
    r"\b(?:"
    + "|".join(
        re.escape(name.lower())
        for name in sorted(
            {_bare(n) for names in [*SUITE_NAMES.values(), *AUG_NAMES.values()] for n in names}
            | {w for n in suite.PEOPLE for w in n.split()},
            key=len,
            reverse=True,
        )
    )
    + r")\b"
)


def skeleton(sentence: str) -> tuple[str, ...]:
    """The content words of a sentence with every name (of either module) as <e> and every number as <n>."""
    text = re.sub(r"\d[\d,.:-]*\d|\d", " <n> ", ENTITY_RE.sub(" <e> ", sentence.lower()))
    words = [w for w in re.findall(r"<e>|<n>|[a-z'-]+", text) if w not in STOPWORDS]
    return tuple(w for i, w in enumerate(words) if not (w == "<e>" and i and words[i - 1] == "<e>"))


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?;])\s+", text) if s.strip()]


def test_skeleton_replaces_names_and_numbers():
    assert skeleton("Maria Lopez signed the trade deal on Tuesday.") == ("<e>", "signed", "<e>", "tuesday")
    assert skeleton("Nadia Haddad spent 12 years at Marlow Telecom.") == ("<e>", "spent", "<n>", "years", "<e>")


def test_no_suite_template_skeleton_is_generated():
    suite_skeletons = {skeleton(s) for c in SUITE_CASES for text in (c.premise, c.hypothesis) for s in sentences(text)}
    shared = {}
    for pair in aug.capability_pairs(5000, seed=3):
        for text in (pair["premise"], pair["hypothesis"]):
            for sentence in sentences(text):
                if skeleton(sentence) in suite_skeletons:
                    shared[skeleton(sentence)] = sentence
    assert not shared, shared


def test_no_four_word_stretch_of_a_suite_skeleton_is_generated():
    # Stricter than whole sentences: a suite frame around a new clause ("<e> denied reports <e> ...") or a
    # suite clause inside a new frame shares a stretch of four skeleton words, placeholders included.
    def grams(words: tuple[str, ...]) -> set[tuple[str, ...]]:
        return {words[i : i + 4] for i in range(len(words) - 3)}

    suite_grams = {
        g for c in SUITE_CASES for t in (c.premise, c.hypothesis) for s in sentences(t) for g in grams(skeleton(s))
    }
    shared = {}
    for pair in aug.capability_pairs(5000, seed=3):
        for sentence in sentences(pair["premise"]) + sentences(pair["hypothesis"]):
            for gram in grams(skeleton(sentence)) & suite_grams:
                shared[gram] = sentence
    assert not shared, shared


def test_reported_speech_frames_are_disjoint_from_the_suite():
    def words(frame: str) -> str:  # the frame without its slots: "denied reports that"
        return re.sub(r"\s+", " ", re.sub(r"\{[a-z]+\}", "", frame)).strip(" .").lower()

    suite_frames = {words(frame) for frame, _ in suite.REPORTED_FRAMES}
    aug_frames = [*aug.DENIALS, *aug.CONFIRMATIONS, *aug.NO_VERDICT, *aug.DISPUTED, *aug.CORROBORATED]
    assert not suite_frames & {words(frame) for frame in aug_frames}
    # nor does a suite frame's wording occur inside an augmentation frame
    assert not [(s, a) for s in suite_frames for a in aug_frames if s in a.lower()]


# --- labels by construction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "n", "m", "holds"),
    [
        ("more than {m}", 120, 100, True),
        ("more than {m}", 120, 120, False),  # the boundary
        ("at least {m}", 120, 120, True),
        ("at most {m}", 120, 119, False),
        ("fewer than {m}", 120, 121, True),
        ("no fewer than {m}", 120, 130, False),
        ("exactly {m}", 120, 120, True),
        ("exactly {m}", 120, 121, False),
    ],
)
def test_quantity_holds(phrase, n, m, holds):
    assert aug.quantity_holds(phrase, n, m) is holds


@pytest.mark.parametrize(
    ("claim", "a", "b", "holds"),
    [
        ("doubled", 40, 80, True),
        ("doubled", 40, 50, False),
        ("doubled", 40, 70, None),  # ×1.75: neither clearly doubled nor clearly not
        ("more_than_doubled", 40, 80, False),
        ("more_than_doubled", 40, 120, True),
        ("halved", 40, 20, True),
        ("halved", 40, 35, False),
        ("higher", 40, 41, True),
        ("reversed_higher", 40, 41, False),
        ("fell", 40, 39, True),
    ],
)
def test_trend_holds(claim, a, b, holds):
    assert aug.trend_holds(claim, a, b) is holds


def _by_family(family: str) -> list[dict]:
    return [p for p in PAIRS if _family(p) == family]


def test_count_labels_recomputed_from_the_text():
    phrases = sorted((phrase.split(" {")[0] for phrase, _ in aug.QUANTIFIERS), key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(phrases) + r") (\d+)\b", re.IGNORECASE)
    checked = 0
    for pair in _by_family("numbers"):
        match = pattern.search(pair["hypothesis"])
        if not match or _label(pair) == "neutral":
            continue
        n = int(re.search(r"\b(\d+)\b", pair["premise"]).group(1))
        phrase, m = match.group(1).lower() + " {m}", int(match.group(2))
        assert _label(pair) == ("support" if aug.quantity_holds(phrase, n, m) else "contradict"), pair
        checked += 1
    assert checked > 100


def test_match_labels_recomputed_from_the_text():
    checked = 0
    for pair in _by_family("entity_swap"):
        active = re.match(r"(.+) beat (.+) \d-\d in ", pair["premise"])
        passive = re.match(r"(.+) was beaten \d-\d by (.+) in ", pair["premise"])
        if not (active or passive):
            continue
        winner, loser = active.groups() if active else passive.groups()[::-1]
        winner, loser = winner.lower(), loser.lower()
        h = pair["hypothesis"].lower()
        if " beat " in h and "had beaten" not in h:
            expected = "support" if h.startswith(winner) else "contradict"
        elif " lost " in h or "suffered a defeat" in h:
            expected = "support" if h.startswith(loser) else "contradict"
        elif "scored more goals than" in h:
            expected = "support" if h.startswith(winner) else "contradict"
        else:
            expected = "neutral"
        assert _label(pair) == expected, pair
        checked += 1
    assert checked > 20


def test_tenure_labels_recomputed_from_the_text():
    checked = 0
    for pair in _by_family("dates"):
        years = re.search(r"(?:joined .+ in|from) (\d{4}) (?:and left in|until) (\d{4})", pair["premise"])
        if not years:
            continue
        y1, y2 = map(int, years.groups())
        h = pair["hypothesis"]
        if m := re.search(r"spent (\d+) years", h):
            holds = int(m.group(1)) == y2 - y1
        elif m := re.search(r"still at .+ in (\d{4})", h):
            holds = y1 < int(m.group(1)) < y2
        elif m := re.search(r"already at .+ in (\d{4})", h):
            holds = y1 <= int(m.group(1)) <= y2
        elif m := re.search(r"in the (\d{4})s", h):
            holds = int(m.group(1)) <= y1 < int(m.group(1)) + 10
        elif m := re.search(r"left .+ before (\d{4})", h):
            holds = y2 < int(m.group(1))
        elif m := re.search(r"joined .+ after (\d{4})", h):
            holds = y1 > int(m.group(1))
        else:
            assert _label(pair) == "neutral", pair
            continue
        assert _label(pair) == ("support" if holds else "contradict"), pair
        checked += 1
    assert checked > 20


def test_reported_speech_labels_follow_the_frame():
    for pair in _by_family("reported_speech"):
        p, h = pair["premise"], pair["hypothesis"]
        if any(word in p for word in (" claimed that ", " said that ", "According to ")):
            continue  # the disputes, checked below
        assert h[:-1].lower() in p.lower(), pair  # the claim is the reported clause
        labels = {label for frame, label in aug.REPORT_LABELS.items() if re.fullmatch(_frame_regex(frame), p, re.I)}
        assert labels == {_label(pair)}, pair


SLOT_PATTERNS = {
    "name": r"[A-Z][a-z]+ [A-Z][a-z]+",
    "name2": r"[A-Z][a-z]+ [A-Z][a-z]+",
    "wire": "(?:" + "|".join(aug.WIRES) + ")",
    "time": r"\d\d:\d\d",
    "year": r"\d{4}",
}


def _frame_regex(frame: str) -> str:
    """A template as a regex: each slot a known pattern (names, agencies, times) or any text."""
    parts = re.split(r"\{([a-z0-9]+)\}", frame)
    return "".join(SLOT_PATTERNS.get(part, ".+") if i % 2 else re.escape(part) for i, part in enumerate(parts))


def test_concrete_reported_speech_examples():
    clause = "Nadia Haddad resigned from the board of Marlow Telecom"
    for frames, label in ((aug.DENIALS, "contradict"), (aug.CONFIRMATIONS, "support"), (aug.NO_VERDICT, "neutral")):
        for frame in frames:
            assert aug.REPORT_LABELS[frame] == label
            assert clause in frame.format(x=clause, authority="the tax office", day="Monday")


def test_disputed_reports():
    rng = random.Random(5)
    for _ in range(50):
        triples = aug._disputed_report(rng)
        premise = triples[0][0]
        denied = " denied it" in premise or " disputed this" in premise
        for _, h, label in triples:
            if " accepts that " in h:
                assert label == ("contradict" if denied else "support")
            elif " disputes that " in h:
                assert label == ("support" if denied else "contradict")
            elif " claim" in h:  # what the source did: said (support) or might do next (open)
                assert label == ("neutral" if "withdrew" in h else "support")
            else:  # the claim itself: the authority's word settles it, as in a plain report
                assert h[:-1].lower() in premise.lower() and label == ("contradict" if denied else "support")


# The test's own reading of a quantifier premise: the counts of n it allows, given n and k.
PREMISE_COUNTS = [
    (r"All (?P<n>\d+) (?P<group>.+?) (?P<action>\w.+)\.", lambda n, k: {n}),
    (r"Every one of the (?P<n>\d+) (?P<group>.+?) (?P<action>\w.+)\.", lambda n, k: {n}),
    (r"Not one of the (?P<n>\d+) (?P<group>.+?) (?P<action>\w.+)\.", lambda n, k: {0}),
    (r"Not a single one of the (?P<n>\d+) (?P<group>.+?) (?P<action>\w.+)\.", lambda n, k: {0}),
    (r"Exactly (?P<k>\d+) of the (?P<n>\d+) (?P<group>.+?) (?P<action>\w.+)\.", lambda n, k: {k}),
    (r"Of the (?P<n>\d+) (?P<group>.+?), only (?P<k>\d+) (?P<action>\w.+)\.", lambda n, k: {k}),
    (r"At least (?P<k>\d+) of the (?P<n>\d+) (?P<group>.+?) (?P<action>\w.+)\.", lambda n, k: set(range(k, n + 1))),
    (r"No more than (?P<k>\d+) of the (?P<n>\d+) (?P<group>.+?) (?P<action>\w.+)\.", lambda n, k: set(range(k + 1))),
]
# What a claim says of the count c of n (checked by its first words; "at least one" by whether it negates).
CLAIM_TRUTH = [
    ("Every ", lambda c, n: c == n),
    ("All of the ", lambda c, n: c == n),
    ("No ", lambda c, n: c == 0),
    ("Most of the ", lambda c, n: c > n / 2),
    ("Fewer than half of the ", lambda c, n: c < n / 2),
    ("Not all of the ", lambda c, n: c != n),
]
NEGATED_ACTION = re.compile(r" (did not|missed) ")


def _quantifier_reading(premise: str) -> tuple[int, set[int], str]:
    """(n, the counts the premise allows, the action), by the test's own patterns."""
    for pattern, counts in PREMISE_COUNTS:
        m = re.fullmatch(pattern, premise)
        if m:
            n, k = int(m["n"]), int(m["k"]) if "k" in m.groupdict() else 0
            return n, counts(n, k), m["action"]
    raise AssertionError(f"unknown quantifier premise: {premise}")


def _expected_quantifier_label(premise: str, claim: str) -> str:
    n, counts, action = _quantifier_reading(premise)
    if claim.startswith("At least one "):
        truth = (lambda c, n: c < n) if NEGATED_ACTION.search(claim) else (lambda c, n: c >= 1)
    else:
        truth = next(t for prefix, t in CLAIM_TRUTH if claim.startswith(prefix))
    if not NEGATED_ACTION.search(claim) and not claim.endswith(f" {action}."):
        return "neutral"  # another action: nothing is known of it
    verdicts = {truth(c, n) for c in counts}
    return "support" if verdicts == {True} else "contradict" if verdicts == {False} else "neutral"


def test_quantifier_labels_recomputed_from_the_text():
    checked = Counter()
    for pair in _by_family("quantifiers"):
        expected = _expected_quantifier_label(pair["premise"], pair["hypothesis"])
        assert _label(pair) == expected, pair
        checked[expected] += 1
    assert min(checked.values()) > 50, checked


@pytest.mark.parametrize(
    "premise, claim, label",
    [
        # Exactly half: neither "most" nor "fewer than half".
        ("Exactly 5 of the 10 {g} got the flu jab.", "Most of the {g} got the flu jab.", "contradict"),
        ("Exactly 5 of the 10 {g} got the flu jab.", "Fewer than half of the {g} got the flu jab.", "contradict"),
        ("At least 3 of the 10 {g} got the flu jab.", "Most of the {g} got the flu jab.", "neutral"),
        ("No more than 4 of the 10 {g} got the flu jab.", "Most of the {g} got the flu jab.", "contradict"),
        ("All 10 {g} got the flu jab.", "Not all of the {g} got the flu jab.", "contradict"),
        ("All 10 {g} got the flu jab.", "At least one {one} did not get the flu jab.", "contradict"),
        ("Not one of the 10 {g} got the flu jab.", "No {one} got the flu jab.", "support"),
        ("Not one of the 10 {g} got the flu jab.", "No {one} paid the yearly fee.", "neutral"),
    ],
)
def test_concrete_quantifier_labels(premise, claim, label):
    names = {"g": "members of the chess club", "one": "member of the chess club"}
    premise, claim = premise.format(**names), claim.format(**names)
    assert _expected_quantifier_label(premise, claim) == label
    # The module's own rule on the same counts, for the claims on the premise's action.
    if "flu jab" in claim:
        n, counts, _ = _quantifier_reading(premise)
        negated = "did not" in claim
        holds = next(
            h for t, h in aug.QUANTIFIER_CLAIMS if claim.startswith(t.split("{")[0]) and ("{did_not}" in t) == negated
        )
        assert aug.quantifier_label(range(min(counts), max(counts) + 1), holds, n) == label


def test_paraphrase_claims_keep_their_label_across_phrasings():
    paraphrase = _by_family("paraphrase")
    by_claim: dict[str, set[str]] = {}
    premises: dict[str, set[str]] = {}
    for pair in paraphrase:
        by_claim.setdefault(pair["hypothesis"], set()).add(_label(pair))
        premises.setdefault(pair["hypothesis"], set()).add(pair["premise"])
    assert all(len(labels) == 1 for labels in by_claim.values())
    # Nearly every claim meets two phrasings (a partner is missing only where the quota cut the unit).
    paired = sum(len(premises[p["hypothesis"]]) >= 2 for p in paraphrase)
    assert paired >= 0.95 * len(paraphrase)


def test_capability_families_select_and_reproduce():
    old = aug.FAMILIES[:6]  # the families before quantifiers and paraphrase: old recipes reproduce with them
    pairs = aug.capability_pairs(600, seed=0, families=old)
    assert {_family(p) for p in pairs} == set(old)
    assert {_family(p) for p in aug.capability_pairs(50, seed=0, families=["quantifiers"])} == {"quantifiers"}
    with pytest.raises(ValueError, match=r"capability_families: unknown \['quantifier'\]"):
        aug.capability_pairs(50, seed=0, families=["quantifier"])
    overrides = ["data.augment.capabilities=0.5", "data.augment.capability_families=[paraphrase]"]
    cfg = compose_config("train", ["paths.output_dir=/tmp/x", *overrides])
    splits = build_splits(cfg.data, cfg.paths.data_root)
    assert {s for s in splits.train["source"] if s.startswith("capability_aug:")} == {"capability_aug:paraphrase"}


def test_symmetry_pairs_come_in_both_directions_with_one_label():
    symmetry = _by_family("symmetry")
    pairs = {(p["premise"], p["hypothesis"]): _label(p) for p in symmetry}
    swapped = [key for key in pairs if key[::-1] in pairs]
    # A swap can be missing only where it was generated earlier for another unit, or cut by the quota.
    assert len(swapped) >= 0.95 * len(symmetry)
    assert all(pairs[key[::-1]] == pairs[key] for key in swapped)


def test_content_free_premises_are_neutral():
    furniture = re.compile("|".join(_frame_regex(b) for b in sorted(aug.BOILERPLATE, key=len, reverse=True)))
    empty = _by_family("empty_evidence")
    for pair in empty:
        rest = furniture.sub("", pair["premise"]).strip(" .")
        # Tagged as carrying no evidence exactly when it has none (train.no_evidence_target reads the tag).
        assert has_no_evidence(pair["source"]) == (not rest), pair
        if not rest:
            assert _label(pair) == "neutral", pair
        else:  # real evidence wrapped in boilerplate keeps its label
            assert _label(pair) in {"support", "contradict"}, pair
    blanks = [p for p in empty if p["premise"] == ""]
    assert blanks and all(_label(p) == "neutral" for p in blanks)
    assert Counter(_label(p) for p in empty)["neutral"] > len(empty) / 2


# --- shape of the output -----------------------------------------------------------------------------------


def test_deterministic_distinct_and_well_formed():
    assert aug.capability_pairs(3000, seed=0) == PAIRS
    assert aug.capability_pairs(300, seed=1) != aug.capability_pairs(300, seed=0)
    assert aug.capability_pairs(0, seed=0) == [] and len(aug.capability_pairs(7, seed=0)) == 7
    assert len({(p["premise"], p["hypothesis"]) for p in PAIRS}) == len(PAIRS) == 3000
    assert len({p["id"] for p in PAIRS}) == len(PAIRS)
    for p in PAIRS:
        assert set(p) == {"id", "premise", "hypothesis", "label", "source"}
        assert p["label"] in LABEL2ID.values() and p["hypothesis"].strip()
        assert p["source"].startswith("capability_aug:") and _family(p) in aug.FAMILIES
        assert not has_no_evidence(p["source"]) or _family(p) == "empty_evidence"


def test_family_mix_and_labels():
    counts = Counter(_family(p) for p in PAIRS)
    assert set(counts) == set(aug.FAMILIES)
    assert max(counts.values()) - min(counts.values()) <= 1  # equal shares
    for family in aug.FAMILIES:
        labels = Counter(_label(p) for p in _by_family(family))
        assert set(labels) == aug.FAMILY_LABELS[family], family
        if family != "empty_evidence":  # balanced: no family teaches a label prior
            assert max(labels.values()) <= 1.25 * min(labels.values()), (family, labels)


def test_templates_vary():
    # Many templates per family and many different texts, so no handful of strings can be memorised.
    assert all(len(aug.TEMPLATES[f]) >= 3 for f in aug.TEMPLATES)
    for family in aug.FAMILIES:
        hypotheses = {p["hypothesis"] for p in _by_family(family)}
        # A paraphrase claim meets both phrasings of its event by design: count each once.
        per_claim = 2 if family == "paraphrase" else 1
        assert len(hypotheses) > 0.5 * len(_by_family(family)) / per_claim, family
        assert len({skeleton(h) for h in hypotheses}) >= 10, family


def test_training_split_gets_capability_pairs_and_validation_none():
    cfg = compose_config("train", ["paths.output_dir=/tmp/x", "data.augment.capabilities=0.5"])
    splits = build_splits(cfg.data, cfg.paths.data_root)
    summary = splits.summary["train"]
    assert summary["+ capability pairs"]["n"] == 120  # half of the 240 training pairs
    assert summary["(training total)"]["n"] == len(splits.train) == 240 + 120
    assert sum(s.startswith("capability_aug:") for s in splits.train["source"]) == 120
    assert len(splits.validation) == 60
    for dataset in [splits.validation, *splits.test.values()]:
        assert not any(s.startswith("capability_aug:") for s in dataset["source"])
