"""Training-set augmentations that teach properties the benchmarks' training data under-represents.

* Contradiction symmetry: if A contradicts B, B contradicts A. Adding the swapped pair of every
  ``contradict`` example teaches the model that contradiction does not depend on which side is the evidence.
* Irrelevant evidence: a claim paired with evidence from another, unrelated example is ``neutral``. NLI
  training sets have no such pairs, so models learn "high word overlap ⇒ support" and call unrelated
  headline/body pairs (FNC-1) ``support``; mismatched pairs counter that, long premises included.

Both apply to the training split only (after validation is held back), so validation and test stay
untouched.
"""

from __future__ import annotations

import random

from ..labels import LABEL2ID
from .adapters import Example

CONTRADICT = LABEL2ID["contradict"]
NEUTRAL = LABEL2ID["neutral"]


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
