"""A CheckList-style capability suite (Ribeiro et al., 2020), generated from templates in code.

Benchmarks hide where a model breaks; these probes isolate one skill each, with labels right by
construction: negation, antonyms, numbers and comparatives, dates and the order of events, who did what to
whom, quantifiers, paraphrase invariance, symmetry of contradiction, irrelevant evidence (a long premise
about something else must give ``neutral``), a premise-blanked probe (with no evidence the model should
not be confident) and reported speech (a report that X was denied contradicts X, one that X was confirmed
supports it). ``run_suite`` reports the pass rate per capability and the failing examples.

The training augmentation :mod:`stancekit.data.capability_augment` teaches several of these skills; it uses
none of this module's names or templates (``tests/data/test_capability_augment.py`` checks), so a pass here
is not a memorised string.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..labels import LABELS, Pair
from .capability_vocabulary import (  # noqa: F401  (re-exported: the suite's vocabulary, for tests and tools)
    ANTONYMS,
    CITIES,
    CONTENT_FREE,
    DOCUMENTS,
    FILLER,
    GROUPS,
    ORGS,
    PEOPLE,
    REPORTED_FRAMES,
    TEAMS,
)


@dataclass(frozen=True)
class Case:
    """One probe. ``expected`` is a label, ``"not_confident"`` for the premise-blanked probe, or
    ``"no_stance"`` (neither support nor contradict reaches the threshold) for content-free evidence.

    ``group`` ties cases that are judged together (paraphrase and symmetry pairs)."""

    capability: str
    premise: str
    hypothesis: str
    expected: str
    group: int | None = None


def _negation(rng: random.Random) -> list[Case]:
    out = []
    for person in PEOPLE:
        doc = rng.choice(DOCUMENTS)
        out += [
            Case("negation", f"{person} signed {doc} on Tuesday.", f"{person} did not sign {doc}.", "contradict"),
            Case("negation", f"{person} refused to sign {doc}.", f"{person} signed {doc}.", "contradict"),
            Case("negation", f"{person} refused to sign {doc}.", f"{person} did not sign {doc}.", "support"),
            Case(
                "negation",
                f"{person} confirmed they would not attend the summit in {rng.choice(CITIES)}.",
                f"{person} will attend the summit.",
                "contradict",
            ),
        ]
    return out


def _antonyms(rng: random.Random) -> list[Case]:
    out = []
    for org in ORGS:
        for verb, antonym, synonym in rng.sample(ANTONYMS, 3):
            subject = org[0].upper() + org[1:]
            out.append(
                Case("antonyms", f"{subject} {verb} last week.", f"{subject} {antonym} last week.", "contradict")
            )
            out.append(Case("antonyms", f"{subject} {verb} last week.", f"{subject} {synonym} last week.", "support"))
    return out


def _numbers(rng: random.Random) -> list[Case]:
    out = []
    for city in CITIES:
        n = rng.randrange(200, 900)
        lower, higher = n - rng.randrange(20, 150), n + rng.randrange(20, 150)
        p = f"Officials in {city} said {n} people attended the protest on Saturday."
        out += [
            Case("numbers", p, f"More than {lower} people attended the protest in {city}.", "support"),
            Case("numbers", p, f"More than {higher} people attended the protest in {city}.", "contradict"),
            Case("numbers", p, f"Fewer than {higher} people attended the protest in {city}.", "support"),
            Case("numbers", p, f"Fewer than {lower} people attended the protest in {city}.", "contradict"),
            Case("numbers", p, f"Exactly {higher} people attended the protest in {city}.", "contradict"),
        ]
    return out


def _dates(rng: random.Random) -> list[Case]:
    out = []
    for person in PEOPLE[:8]:
        year = rng.randrange(1995, 2020)
        city = rng.choice(CITIES)
        p = f"{person} resigned as mayor of {city} in {year}, two years before the election of {year + 2}."
        out += [
            Case("dates", p, f"{person} resigned before the election.", "support"),
            Case("dates", p, f"{person} resigned after the election.", "contradict"),
            Case("dates", p, f"{person} resigned as mayor in {year}.", "support"),
            Case("dates", p, f"{person} resigned as mayor in {year + 5}.", "contradict"),
        ]
    return out


def _entity_swap(rng: random.Random) -> list[Case]:
    out = []
    pairs = [(a, b) for a in TEAMS for b in TEAMS if a != b]
    for a, b in rng.sample(pairs, 10):
        cap_a, cap_b = a[0].upper() + a[1:], b[0].upper() + b[1:]
        p = f"{cap_a} defeated {b} 3-1 in the cup final on Sunday."
        out += [
            Case("entity_swap", p, f"{cap_b} defeated {a} in the cup final.", "contradict"),
            Case("entity_swap", p, f"{cap_b} lost to {a} in the cup final.", "support"),
            Case("entity_swap", p, f"{cap_a} won the cup final.", "support"),
        ]
    return out


def _quantifiers(rng: random.Random) -> list[Case]:
    out = []
    for group in GROUPS:
        n = rng.randrange(8, 60)
        cap = group[0].upper() + group[1:]
        out += [
            Case(
                "quantifiers",
                f"All {n} {group} voted for the bill.",
                f"Some {group} voted against the bill.",
                "contradict",
            ),
            Case(
                "quantifiers",
                f"All {n} {group} voted for the bill.",
                f"None of the {group} voted for the bill.",
                "contradict",
            ),
            Case("quantifiers", f"All {n} {group} voted for the bill.", f"Some {group} voted for the bill.", "support"),
            Case(
                "quantifiers",
                f"None of the {n} {group} voted for the bill.",
                f"{cap} voted for the bill.",
                "contradict",
            ),
            Case(
                "quantifiers",
                f"Some of the {n} {group} voted for the bill.",
                f"All the {group} voted for the bill.",
                "neutral",
            ),
        ]
    return out


def _paraphrase(rng: random.Random) -> list[Case]:
    out = []
    for i, person in enumerate(PEOPLE[:10]):
        org, city = rng.choice(ORGS), rng.choice(CITIES)
        pair = (
            f"{person} announced on Monday that {org} would close its office in {city}.",
            f"On Monday, {person} said that {org} is going to shut its {city} office.",
        )
        hypothesis = rng.choice(
            [
                f"{org[0].upper() + org[1:]} will close its office in {city}.",
                f"{org[0].upper() + org[1:]} will keep its office in {city} open.",
            ]
        )
        expected = "support" if "will close" in hypothesis else "contradict"
        out += [Case("paraphrase", p, hypothesis, expected, group=i) for p in pair]
    return out


def _symmetry(rng: random.Random) -> list[Case]:
    out = []
    for i, person in enumerate(PEOPLE):
        city = rng.choice(CITIES)
        a = f"{person} won the mayoral election in {city}."
        b = f"{person} lost the mayoral election in {city}."
        out += [Case("symmetry", a, b, "contradict", group=i), Case("symmetry", b, a, "contradict", group=i)]
    return out


def _news_sentences(rng: random.Random, avoid: str) -> list[str]:
    """Wire-style sentences about other people, organisations and places than ``avoid`` mentions."""
    people = [p for p in PEOPLE if p not in avoid]
    orgs = [o for o in ORGS if o[4:] not in avoid.lower()]
    teams = [t for t in TEAMS if t.lower() not in avoid.lower()]
    cities = [c for c in CITIES if c not in avoid]
    team = rng.choice(teams)
    news = [
        f"{rng.choice(people)} signed {rng.choice(DOCUMENTS)} on Tuesday, officials said.",
        f"{rng.choice(orgs).capitalize()} {rng.choice(ANTONYMS)[0]} last week.",
        f"Officials in {rng.choice(cities)} said {rng.randrange(200, 900)} people attended a protest on Saturday.",
        f"{team[0].upper() + team[1:]} drew 1-1 in a friendly match on Sunday.",
        f"{rng.choice(people)} resigned as mayor of {rng.choice(cities)} in {rng.randrange(1995, 2020)}.",
        f"{rng.choice(people)} said the talks in {rng.choice(cities)} would continue next month.",
    ]
    return news + rng.sample(FILLER, 2)


def _irrelevant(rng: random.Random) -> list[Case]:
    """A long, news-like premise about other people and places: the claim is neither backed nor refuted.

    Unrelated evidence that *reads like* related news is what makes NLI-trained models say "support"
    (FNC-1's unrelated headline/body pairs), and the longer the premise the more so.
    """
    out = []
    claims = (
        [f"{person} will run for president next year." for person in PEOPLE[:6]]
        + [f"{person} signed {rng.choice(DOCUMENTS)}." for person in PEOPLE[6:]]
        + [f"{org[0].upper() + org[1:]} raised interest rates in {city}." for org, city in zip(ORGS, CITIES)]
        + [f"{team[0].upper() + team[1:]} won the league title." for team in TEAMS]
    )
    for claim in claims:
        premise = " ".join(rng.sample(_news_sentences(rng, claim), rng.randrange(4, 8)))
        out.append(Case("irrelevant_evidence", premise, claim, "neutral"))
    return out


def _blank_premise(rng: random.Random) -> list[Case]:
    claims = [f"{person} signed {rng.choice(DOCUMENTS)}." for person in PEOPLE] + [
        f"More than {rng.randrange(100, 900)} people attended the protest in {city}." for city in CITIES
    ]
    return [Case("premise_blanked", "", claim, "not_confident") for claim in claims]


def _content_free(rng: random.Random) -> list[Case]:
    """Empty or content-free evidence: the model may say neutral (there is nothing to go on), even
    confidently, but never a confident support or contradict (issue #15's criterion; ``premise_blanked``
    asks more, no confident label at all)."""
    claims = [f"{person} signed {rng.choice(DOCUMENTS)}." for person in PEOPLE[:8]] + [
        f"{org[0].upper() + org[1:]} {rng.choice(ANTONYMS)[0]}." for org in ORGS
    ]
    return [Case("content_free_evidence", rng.choice(CONTENT_FREE), claim, "no_stance") for claim in claims]


def _reported_claims(rng: random.Random, person: str) -> list[str]:
    """Claims about ``person`` (or an organisation or team) that a report can deny or confirm, lower-case start."""
    org, verb = rng.choice(ORGS), rng.choice(ANTONYMS)[0]
    return [
        f"{person} signed {rng.choice(DOCUMENTS)}",
        f"{person} resigned as mayor of {rng.choice(CITIES)}",
        f"{org} {verb}",
        f"{rng.choice(TEAMS)} won the league title",
    ]


def _reported_speech(rng: random.Random) -> list[Case]:
    """Each person's claim under every frame: the same claim is contradicted, supported or left open."""
    out = []
    for person in PEOPLE:
        claim = rng.choice(_reported_claims(rng, person))
        hypothesis = claim[0].upper() + claim[1:] + "."
        # The speaker is never the claim's own subject: "X denied that X ..." would be a different probe.
        speakers = [o for o in ORGS if o not in claim] + [p for p in PEOPLE if p not in claim]
        for frame, expected in REPORTED_FRAMES:
            speaker = rng.choice(speakers)
            premise = frame.format(speaker=speaker, claim=claim)
            out.append(Case("reported_speech", premise[0].upper() + premise[1:], hypothesis, expected))
    return out


GENERATORS: dict[str, Callable[[random.Random], list[Case]]] = {
    "negation": _negation,
    "antonyms": _antonyms,
    "numbers": _numbers,
    "dates": _dates,
    "entity_swap": _entity_swap,
    "quantifiers": _quantifiers,
    "paraphrase": _paraphrase,
    "symmetry": _symmetry,
    "irrelevant_evidence": _irrelevant,
    "premise_blanked": _blank_premise,
    "content_free_evidence": _content_free,
    "reported_speech": _reported_speech,
}

CRITERIA = {
    "paraphrase": "same label for both paraphrases of the premise",
    "symmetry": "contradict in both directions",
    "premise_blanked": "top probability below {threshold} with an empty premise",
    "content_free_evidence": "support and contradict each below {threshold} (empty or boilerplate evidence)",
}


def generate_suite(seed: int = 0) -> dict[str, list[Case]]:
    """All capability cases, deterministic for a seed."""
    return {name: gen(random.Random(f"{seed}-{name}")) for name, gen in GENERATORS.items()}


def run_suite(
    predict_proba: Callable[[Sequence[Pair]], np.ndarray],
    seed: int = 0,
    confidence_threshold: float = 0.5,
) -> dict[str, dict]:
    """Score every capability. ``predict_proba`` takes pairs (the premise may be empty) in LABELS order.

    Returns ``{capability: {"n", "pass_rate", "criterion", "failures": [...]}}``.
    """
    suite = generate_suite(seed)
    cases = [case for group in suite.values() for case in group]
    probs = np.asarray(predict_proba([(c.premise, c.hypothesis) for c in cases]))
    predicted = {id(c): (LABELS[int(p.argmax())], float(p.max())) for c, p in zip(cases, probs)}
    result = {}
    for name, group in suite.items():
        passed, failures, units = 0, [], _units(group)
        for unit in units:
            ok = _judge(unit, predicted, confidence_threshold)
            passed += ok
            if not ok:
                for c in unit:
                    label, conf = predicted[id(c)]
                    failures.append({**asdict(c), "predicted": label, "confidence": conf})
        criterion = CRITERIA.get(name, "predicted label equals the constructed label").format(
            threshold=confidence_threshold
        )
        result[name] = {
            "n": len(group),
            "units": len(units),
            "pass_rate": passed / max(len(units), 1),
            "criterion": criterion,
            "failures": failures,
        }
    return result


def _units(group: list[Case]) -> list[list[Case]]:
    """Cases judged together: grouped cases by their group id, the others one by one."""
    grouped: dict[int, list[Case]] = {}
    singles = []
    for c in group:
        if c.group is None:
            singles.append([c])
        else:
            grouped.setdefault(c.group, []).append(c)
    return singles + list(grouped.values())


def _judge(unit: list[Case], predicted: dict, threshold: float) -> bool:
    first = unit[0]
    if first.capability == "paraphrase":
        return len({predicted[id(c)][0] for c in unit}) == 1
    if first.expected == "not_confident":
        return predicted[id(first)][1] < threshold
    if first.expected == "no_stance":
        label, confidence = predicted[id(first)]
        return label == "neutral" or confidence < threshold
    return all(predicted[id(c)][0] == c.expected for c in unit)


def mean_pass_rate(result: dict[str, dict]) -> float:
    return float(np.mean([cap["pass_rate"] for cap in result.values()])) if result else float("nan")
