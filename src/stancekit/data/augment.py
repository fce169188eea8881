"""Training-set augmentations that teach properties the benchmarks' training data under-represents.

* Contradiction symmetry: if A contradicts B, B contradicts A. Adding the swapped pair of every
  ``contradict`` example teaches the model that contradiction does not depend on which side is the evidence.
* Irrelevant evidence: a claim paired with evidence from another, unrelated example is ``neutral``. NLI
  training sets have no such pairs, so models learn "high word overlap ⇒ support" and call unrelated
  headline/body pairs (FNC-1) ``support``; mismatched pairs counter that, long premises included.
* Blanked premises: a training claim with an empty premise. A model that is confident from the claim alone
  has learnt the claim's wording, not to check it against evidence (the hypothesis-only shortcut that
  FEVER-Symmetric and ANLI punish). These pairs are labelled ``neutral`` and tagged as carrying no
  evidence (:data:`NO_EVIDENCE_TAG`), so ``train.no_evidence_target=uniform`` can teach "no opinion"
  (equal probabilities) on them instead of a confident ``neutral``.

Both apply to the training split only (after validation is held back), so validation and test stay
untouched.
"""

from __future__ import annotations

import random

from ..labels import LABEL2ID
from .adapters import Example

CONTRADICT = LABEL2ID["contradict"]
NEUTRAL = LABEL2ID["neutral"]
# Ends the ``source`` of a training pair whose premise carries no evidence at all (empty, or page furniture
# only): its label is ``neutral``, and ``train.no_evidence_target`` says whether the loss teaches that label
# or equal probabilities (stancekit.train.objectives).
NO_EVIDENCE_TAG = "+no_evidence"


def has_no_evidence(source: str) -> bool:
    """Whether a training pair's ``source`` marks its premise as carrying no evidence."""
    return source.endswith(NO_EVIDENCE_TAG)


def swap_contradictions(pairs: list[Example], fraction: float, seed: int) -> list[Example]:
    """The (hypothesis, premise) pair of a ``fraction`` of the contradictions, labelled ``contradict``.

    A fraction below 1 keeps the label prior from tilting too far towards ``contradict``.
    """
    contradictions = [p for p in pairs if p["label"] == CONTRADICT]
    chosen = random.Random(seed).sample(contradictions, int(round(min(fraction, 1.0) * len(contradictions))))
    return [
        {
            **p,
            "id": f"{p['id']}:swapped",
            "premise": p["hypothesis"],
            "hypothesis": p["premise"],
            "source": f"{p['source']}+swapped",
        }
        for p in chosen
    ]


def random_premise_neutrals(pairs: list[Example], fraction: float, seed: int) -> list[Example]:
    """``fraction × len(pairs)`` claims paired with the premise of a random other example, labelled neutral.

    The other example must come from a different premise (so the pair is almost surely unrelated); the
    same source is preferred so style and length match the real pairs.
    """
    if fraction <= 0 or len(pairs) < 2:
        return []
    rng = random.Random(seed)
    by_source: dict[str, list[int]] = {}
    for i, p in enumerate(pairs):
        by_source.setdefault(p["source"], []).append(i)
    out = []
    for i in rng.sample(range(len(pairs)), min(int(fraction * len(pairs)), len(pairs))):
        claim = pairs[i]
        candidates = by_source[claim["source"]] if len(by_source[claim["source"]]) > 1 else range(len(pairs))
        for _ in range(10):
            j = rng.choice(candidates)
            if pairs[j]["premise"] != claim["premise"]:
                out.append(
                    {
                        **claim,
                        "id": f"{claim['id']}:random-premise",
                        "premise": pairs[j]["premise"],
                        "label": NEUTRAL,
                        "source": f"{claim['source']}+random_premise",
                    }
                )
                break
    return out


def blank_premises(pairs: list[Example], fraction: float, seed: int) -> list[Example]:
    """The claims of ``fraction × len(pairs)`` random training pairs with an empty premise, labelled
    ``neutral`` and tagged :data:`NO_EVIDENCE_TAG`.

    Each claim keeps its source's wording and length, so the model cannot tell these pairs from the real
    ones by the claim: only the missing evidence sets them apart.
    """
    if fraction <= 0 or not pairs:
        return []
    # Its own stream of the seed: random_premise_neutrals draws from random.Random(seed), and with the same
    # stream both would pick the same claims.
    rng = random.Random(f"{seed}-blank-premise")
    chosen = rng.sample(range(len(pairs)), min(int(fraction * len(pairs)), len(pairs)))
    return [
        {
            **pairs[i],
            "id": f"{pairs[i]['id']}:blank-premise",
            "premise": "",
            "label": NEUTRAL,
            "source": f"{pairs[i]['source']}+blank_premise{NO_EVIDENCE_TAG}",
        }
        for i in chosen
    ]
