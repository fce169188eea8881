"""One-word contrasts built from the training sentences themselves (``data.augment.minimal_pairs``).

A small model learns "the claim repeats the evidence's words, so it is supported": it calls "X lost the
vote" support for "X won the vote", because all but one word match (the lexical-overlap heuristic of
McCoy et al., 2019, HANS). The cure is pairs where one word decides: a training sentence against itself
with one word swapped for its opposite is ``contradict``, with one word swapped for a synonym ``support``.
Both come in both directions (contradiction and synonymy are symmetric), the same cue words appear in both
tables where they can (``big`` has an opposite and a synonym), and there are as many support units as
contradict units, so "one word changed" alone gives nothing away.

The sentences are real training premises and claims, so the pairs carry the training data's style and
subjects. A sentence is used only when exactly one word of the tables occurs in it, once, and nothing in it
turns the swap around (negation, "or", comparisons): "is not sitting" against "is not standing" is no
contradiction. The tables leave out every word the capability suite tests with (its election, antonym and
date vocabulary; ``tests/data/test_minimal_pairs.py`` checks), so the suite stays a test of the skill.
"""

from __future__ import annotations

import random
import re
import zlib

from ..labels import LABEL2ID, LABELS
from .adapters import Example

# Opposites that make a scene description false, under the same-scene reading NLI data uses. Left out: words
# whose other senses swap badly ("short hair", "hot dog", "full moon", "to clean", "legal aid", "poor
# quality", "heart failure", "safe to say") and pairs that break the sentence ("a young boy" is no "elderly
# boy").
OPPOSITES: list[tuple[str, str]] = [
    ("sitting", "standing"),
    ("asleep", "awake"),
    ("happy", "sad"),
    ("inside", "outside"),
    ("indoors", "outdoors"),
    ("big", "small"),
    ("pushing", "pulling"),
    ("pushes", "pulls"),
    ("enters", "exits"),
    ("entering", "exiting"),
    ("laughing", "crying"),
    ("smiling", "frowning"),
    ("buying", "selling"),
    ("buys", "sells"),
    ("slowly", "quickly"),
    ("sunny", "rainy"),
    ("ascending", "descending"),
    ("married", "divorced"),
    ("guilty", "innocent"),
    ("cheap", "expensive"),
]
# Words that mean the same in any sentence NLI data has, so the swapped sentence says no more and no less. Left
# out: "little" (also an adverb: "changes very little"), "beginning" (also a noun), "bike" ("dirt bike").
SYNONYMS: list[tuple[str, str]] = [
    ("big", "large"),
    ("children", "kids"),
    ("child", "kid"),
    ("shouting", "yelling"),
    ("talking", "speaking"),
    ("sofa", "couch"),
    ("photo", "picture"),
    ("quickly", "rapidly"),
    ("begins", "starts"),
    ("car", "automobile"),
    ("mom", "mother"),
    ("dad", "father"),
    ("sick", "ill"),
    ("buying", "purchasing"),
    ("happy", "cheerful"),
    ("dangerous", "hazardous"),
    ("attempting", "trying"),
]
# Words that turn a one-word swap around or make its label unclear: negations and hedges ("might be sitting"
# against "might be standing" is no contradiction), alternatives, comparisons and degrees ("most expensive",
# "too small to"), and the particles that make a cue part of a phrasal verb ("sitting down", "standing up").
BLOCKERS = re.compile(
    r"\b(not|no|never|nobody|nothing|none|without|cannot|hardly|few|failed|might|may|could|would|should|or|either"
    r"|neither|nor|than|instead|rather|most|least|too|very|so|up|down)\b|n't\b",
    re.IGNORECASE,
)
MAX_WORDS = 30  # long, many-clause sentences: a swapped word may sit in a clause the other side never reads
CONTRADICT = LABEL2ID["contradict"]
SUPPORT = LABEL2ID["support"]
TABLES = {CONTRADICT: OPPOSITES, SUPPORT: SYNONYMS}


def _lookup(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Both directions of each word pair."""
    return {a: b for a, b in pairs} | {b: a for a, b in pairs}


SWAPS = {label: _lookup(table) for label, table in TABLES.items()}
CUE_WORDS = set(SWAPS[CONTRADICT]) | set(SWAPS[SUPPORT])
# Whole words: a possessive, a hyphenated compound or a word with digits is no cue ("children's",
# "ill-advised", "big5").
WORD = re.compile(r"[\w'-]+")
BOUNDARY_BEFORE, BOUNDARY_AFTER = r"(?<![\w'-])", r"(?![\w'-])"


def swappable_word(sentence: str) -> str | None:
    """The one table word of ``sentence`` (lower-case), or None when it has none, several, or a blocker."""
    words = sentence.split()
    if len(words) > MAX_WORDS or BLOCKERS.search(sentence):
        return None
    tokens = WORD.findall(sentence)
    cues = [w.lower() for w in tokens if w.lower() in CUE_WORDS]
    if len(cues) != 1:
        return None
    # Capitalised inside a sentence, a cue is a name ("as far from Small as he can"): no swap.
    found = next(w for w in tokens if w.lower() == cues[0])
    return cues[0] if found.islower() or found == tokens[0] else None


def swap(sentence: str, word: str, replacement: str) -> str:
    """``sentence`` with its one occurrence of ``word`` replaced, keeping a capital first letter and making a
    preceding "a"/"an" fit the new word ("an expensive watch" against "a cheap watch")."""

    def replace(match: re.Match) -> str:
        article, found = match.group(1), match.group(2)
        new = replacement[0].upper() + replacement[1:] if found[0].isupper() else replacement
        if article is None:
            return new
        fitted = "an" if new[0].lower() in "aeiou" else "a"
        return (fitted.capitalize() if article[0].isupper() else fitted) + " " + new

    pattern = rf"{BOUNDARY_BEFORE}(?:(an?)\s+)?({re.escape(word)}){BOUNDARY_AFTER}"
    return re.sub(pattern, replace, sentence, count=1, flags=re.IGNORECASE)


def minimal_pairs(pairs: list[Example], fraction: float, seed: int) -> list[Example]:
    """At most ``fraction × len(pairs)`` one-word contrast pairs (whole units of four) from the premises and
    claims of ``pairs``.

    Units alternate between ``contradict`` (opposites) and ``support`` (synonyms); each unit is a sentence
    and its swap in both directions, so half the pairs are each label. Deterministic for a seed; each
    sentence is used at most once.
    """
    target = int(fraction * len(pairs))
    if target <= 0:
        return []
    rng = random.Random(seed)
    order = list(range(len(pairs)))
    rng.shuffle(order)
    # Sentences by the labels their cue word can give, so the two labels draw from the same cue words.
    candidates: dict[int, list[tuple[int, str, str]]] = {CONTRADICT: [], SUPPORT: []}
    seen: set[str] = set()
    for i in order:
        for field in ("premise", "hypothesis"):
            sentence = pairs[i][field].strip()
            word = swappable_word(sentence) if sentence and sentence not in seen else None
            if word is None:
                continue
            seen.add(sentence)
            label = rng.choice([label for label in TABLES if word in SWAPS[label]])
            swapped = swap(sentence, word, SWAPS[label][word])
            if swapped != sentence:
                candidates[label].append((i, sentence, swapped))
    out: list[Example] = []
    # Whole units of four pairs (a contradict unit and a support unit, each both ways), so the labels and the
    # directions stay balanced.
    for k in range(min(len(candidates[CONTRADICT]), len(candidates[SUPPORT]), target // 4)):
        for label in (CONTRADICT, SUPPORT):
            i, sentence, swapped = candidates[label][k]
            for n, (premise, hypothesis) in enumerate([(sentence, swapped), (swapped, sentence)]):
                out.append(
                    {
                        **pairs[i],
                        # A pair's premise and claim may both be used: the sentence's hash keeps their ids apart.
                        "id": f"{pairs[i]['id']}:minimal-{LABELS[label]}-{zlib.crc32(sentence.encode()):08x}-{n}",
                        "premise": premise,
                        "hypothesis": hypothesis,
                        "label": label,
                        "source": f"{pairs[i]['source']}+minimal_pair",
                    }
                )
    return out
