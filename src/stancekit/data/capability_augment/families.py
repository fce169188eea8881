"""The families put together: ``empty_evidence`` (built from the others' pairs), label balance, and
:func:`capability_pairs`."""

from __future__ import annotations

import random
from collections.abc import Sequence

from ...labels import LABEL2ID
from ..adapters import Example
from ..augment import NO_EVIDENCE_TAG
from .events import (
    _age,
    _age_at,
    _award_order,
    _construction,
    _election,
    _employer,
    _festivals,
    _goal,
    _match,
    _race,
    _tenure,
)
from .numbers import COUNT_TEMPLATES, TREND_TEMPLATES, _count_template, _trend_template
from .paraphrase import PARAPHRASE_EVENTS, paraphrase_template
from .quantifiers import QUANTIFIER_GROUPS, quantifier_template
from .speech import SYMMETRY_GROUPS, _direct_reports, _disputed_report, _symmetry_group
from .vocabulary import (
    BOILERPLATE,
    CONTRADICT,
    NEUTRAL,
    SOURCE_PREFIX,
    SUPPORT,
    WIRES,
    Template,
    Triple,
    _people,
)

# --- the families ------------------------------------------------------------------------------------------

TEMPLATES: dict[str, list[Template]] = {
    "symmetry": [_symmetry_group(kind, i) for kind, groups in SYMMETRY_GROUPS.items() for i in range(len(groups))],
    "entity_swap": [_match, _race, _age, _goal, _election, _employer],
    "numbers": [_count_template(*t) for t in COUNT_TEMPLATES] + [_trend_template(*t) for t in TREND_TEMPLATES],
    "dates": [_tenure, _construction, _age_at, _festivals, _award_order],
    # Direct reports twice as often: "a denial of X contradicts X" is the skill; disputes are its variation.
    "reported_speech": [_direct_reports, _direct_reports, _disputed_report],
    "quantifiers": [quantifier_template(*group) for group in QUANTIFIER_GROUPS],
    "paraphrase": [paraphrase_template(event) for event in PARAPHRASE_EVENTS],
}
# Where the content-free premises' claims, and the evidence wrapped in boilerplate, come from.
EVIDENCE_FAMILIES = ("entity_swap", "numbers", "dates", "reported_speech")
FAMILIES = (
    "symmetry", "entity_swap", "numbers", "dates", "empty_evidence", "reported_speech", "quantifiers", "paraphrase",
)  # fmt: skip
# The labels each family teaches (the test checks that each appears).
FAMILY_LABELS = {family: {SUPPORT, CONTRADICT, NEUTRAL} for family in FAMILIES}


def _one_per_label(candidates: list[Triple], rng: random.Random) -> list[Triple]:
    """One random candidate of each label present, so a scenario adds no label prior."""
    by_label: dict[str, list[Triple]] = {}
    for triple in candidates:
        by_label.setdefault(triple[2], []).append(triple)
    return [rng.choice(by_label[label]) for label in sorted(by_label)]


def _unit(family: str, rng: random.Random) -> list[Triple]:
    """The next few pairs of ``family``: balanced across labels except for ``empty_evidence``."""
    if family == "empty_evidence":
        return _empty_evidence(rng)
    if family in ("symmetry", "paraphrase"):  # one pair of each label, in both directions or both phrasings
        return rng.choice(TEMPLATES[family])(rng)
    return _one_per_label(rng.choice(TEMPLATES[family])(rng), rng)


def _boilerplate(rng: random.Random) -> str:
    """One to three pieces of page furniture, with names, times and agencies filled in."""
    first, second = _people(rng, 2)
    slots = {
        "name": first, "name2": second, "wire": rng.choice(WIRES), "year": rng.randrange(2005, 2025),
        "time": f"{rng.randrange(0, 24):02d}:{rng.randrange(0, 60):02d}",
    }  # fmt: skip
    return " ".join(piece.format(**slots) for piece in rng.sample(BOILERPLATE, rng.randrange(1, 4)))


def _evidence_pair(rng: random.Random) -> Triple:
    """A random pair of the other families (for its claim, or for evidence to wrap)."""
    return rng.choice(rng.choice(TEMPLATES[rng.choice(EVIDENCE_FAMILIES)])(rng))


def _empty_evidence(rng: random.Random) -> list[Triple]:
    """No evidence (empty, or boilerplate only) gives neutral; boilerplate around evidence keeps its label."""
    blank = ("", _evidence_pair(rng)[1], NEUTRAL)
    furniture = (_boilerplate(rng), _evidence_pair(rng)[1], NEUTRAL)
    premise, claim, label = _evidence_pair(rng)
    while label == NEUTRAL:
        premise, claim, label = _evidence_pair(rng)
    before, after = _boilerplate(rng), _boilerplate(rng)
    wrapped = rng.choice([f"{before} {premise}", f"{premise} {after}", f"{before} {premise} {after}"])
    return [blank, furniture, (wrapped, claim, label)]


def _quotas(n: int, k: int) -> list[int]:
    """``n`` split into ``k`` near-equal shares."""
    return [n // k + (i < n % k) for i in range(k)]


def _family_pairs(family: str, quota: int, seed: int, seen: set[tuple[str, str]]) -> list[Example]:
    """``quota`` pairs of one family that are not in ``seen`` (which grows), deterministic for the seed."""
    rng = random.Random(f"{seed}-{SOURCE_PREFIX}-{family}")
    out: list[Example] = []
    attempts = 0
    while len(out) < quota:
        attempts += 1
        if attempts > 50 * quota + 1000:
            raise RuntimeError(f"capability augmentation {family!r}: could not find {quota} distinct pairs")
        for premise, hypothesis, label in _unit(family, rng):
            if len(out) == quota or (premise, hypothesis) in seen:
                continue
            seen.add((premise, hypothesis))
            # empty_evidence's neutral pairs are exactly its empty and furniture-only premises (boilerplate
            # wrapped around evidence is never neutral): they carry no evidence (train.no_evidence_target).
            tag = NO_EVIDENCE_TAG if family == "empty_evidence" and label == NEUTRAL else ""
            out.append(
                {
                    "id": f"{SOURCE_PREFIX}:{family}:{seed}:{len(out)}",
                    "premise": premise,
                    "hypothesis": hypothesis,
                    "label": LABEL2ID[label],
                    "source": f"{SOURCE_PREFIX}:{family}{tag}",
                }
            )
    return out


def capability_pairs(n: int, seed: int, families: Sequence[str] | None = None) -> list[Example]:
    """``n`` distinct labelled pairs, about equally many of each family (of ``families``, default all of
    :data:`FAMILIES`), shuffled.

    Deterministic for a seed and the families in their order. Each pair is an :data:`Example` whose ``source``
    names its family (``capability_aug:numbers``) and whose ``id`` is unique within one call.
    """
    families = FAMILIES if families is None else tuple(families)
    unknown = [family for family in families if family not in FAMILIES]
    if unknown or not families:
        problem = f"unknown {unknown}" if unknown else "empty"
        raise ValueError(f"data.augment.capability_families: {problem}; choose from {list(FAMILIES)}")
    if n <= 0:
        return []
    seen: set[tuple[str, str]] = set()
    out: list[Example] = []
    for family, quota in zip(families, _quotas(n, len(families))):
        out += _family_pairs(family, quota, seed, seen)
    random.Random(f"{seed}-{SOURCE_PREFIX}").shuffle(out)
    return out
