"""The ``numbers`` family: counts against quantifiers, boundaries included, and two-year figures against trends."""

from __future__ import annotations

import random
from collections.abc import Callable

from .vocabulary import CITIES, COMPANIES, CONTRADICT, NEUTRAL, SUPPORT, Template, Triple, _people, _up

# --- numbers: counts, comparatives, trends -----------------------------------------------------------------

# (phrase, holds(n, m)): does "<phrase m> things" describe a true count of n?
QUANTIFIERS: list[tuple[str, Callable[[int, int], bool]]] = [
    ("more than {m}", lambda n, m: n > m),
    ("over {m}", lambda n, m: n > m),
    ("fewer than {m}", lambda n, m: n < m),
    ("under {m}", lambda n, m: n < m),
    ("at least {m}", lambda n, m: n >= m),
    ("no fewer than {m}", lambda n, m: n >= m),
    ("at most {m}", lambda n, m: n <= m),
    ("no more than {m}", lambda n, m: n <= m),
    ("exactly {m}", lambda n, m: n == m),
]

# (premise with {n}, claim with {q}, claim with {q} about another place or thing). Slots: {company},
# {person}, {city}, {city2}.
COUNT_TEMPLATES = [
    (
        "{company} sold {n} tickets for its open day in {city}.",
        "{company} sold {q} tickets for its open day in {city}.",
        "{company} sold {q} tickets for its open day in {city2}.",
    ),
    (
        "The first ferry from {city} carried {n} passengers.",
        "{q} passengers were on the first ferry from {city}.",
        "{q} passengers were on the second ferry from {city}.",
    ),
    (
        "A survey by {company} questioned {n} households in {city}.",
        "{company} surveyed {q} households in {city}.",
        "{company} surveyed {q} households in {city2}.",
    ),
    (
        "{company} employs {n} workers at its plant in {city}.",
        "The {city} plant of {company} has {q} workers.",
        "{company} employs {q} workers at its plant in {city2}.",
    ),
    (
        "Volunteers in {city} collected {n} bags of litter along the coast.",
        "{q} bags of litter were collected by volunteers in {city}.",
        "Volunteers in {city2} collected {q} bags of litter.",
    ),
    (
        "{person} planted {n} olive trees on a farm near {city}.",
        "{person} planted {q} olive trees near {city}.",
        "{person} planted {q} lemon trees near {city}.",
    ),
]


def quantity_holds(phrase: str, n: int, m: int) -> bool:
    """Whether a quantifier phrase of :data:`QUANTIFIERS` (``"at least {m}"``) with ``m`` describes a count ``n``."""
    return dict(QUANTIFIERS)[phrase](n, m)


def _count_template(premise: str, claim: str, other: str) -> Template:
    def make(rng: random.Random) -> list[Triple]:
        n = rng.randrange(20, 5000)
        city, city2 = rng.sample(CITIES, 2)
        slots = {"company": rng.choice(COMPANIES), "person": _people(rng, 1)[0], "city": city, "city2": city2}
        text = premise.format(n=n, **slots)
        d = rng.randrange(1, max(2, n // 3))
        out = []
        for phrase, _ in rng.sample(QUANTIFIERS, 4):
            # n itself and values either side: boundaries ("more than n" is false) as well as clear cases.
            for m in rng.sample([n, n - d, n + d], 2):
                label = SUPPORT if quantity_holds(phrase, n, m) else CONTRADICT
                out.append((text, _up(claim.format(q=phrase.format(m=m), **slots)), label))
        phrase = rng.choice(QUANTIFIERS)[0]
        out.append((text, _up(other.format(q=phrase.format(m=rng.choice([n, n - d, n + d])), **slots)), NEUTRAL))
        return out

    return make


# (premise with {a}, {b}, {y1}, {y2}; the subject of the claims). Slots: {company}, {city}.
TREND_TEMPLATES = [
    ("{company} made a profit of {a} million euros in {y1} and {b} million euros in {y2}.", "{company}'s profit"),
    (
        "The zoo in {city} had {a} thousand visitors in {y1} and {b} thousand in {y2}.",
        "Attendance at the zoo in {city}",
    ),
    (
        "The average rent for a flat in central {city} was {a} euros a month in {y1} and {b} euros in {y2}.",
        "The average rent in central {city}",
    ),
    (
        "The library in {city} lent out {a} thousand books in {y1} and {b} thousand in {y2}.",
        "Book lending at the library in {city}",
    ),
    (
        "{company} shipped {a} thousand parcels in {y1} and {b} thousand in {y2}.",
        "The number of parcels {company} shipped",
    ),
]


def trend_holds(claim: str, a: float, b: float) -> bool | None:
    """Whether a change from ``a`` (earlier year) to ``b`` (later year) is described by ``claim`` (a key of
    :data:`TREND_CLAIMS`); ``None`` where the words are vague for these values ("doubled" for ×1.8)."""
    if claim in ("higher", "rose"):
        return b > a
    if claim in ("lower", "fell", "reversed_higher"):
        return b < a
    if claim == "doubled":
        return True if b == 2 * a else False if b <= 1.5 * a else None
    if claim == "more_than_doubled":
        return True if b >= 2.5 * a else False if b <= 2 * a else None
    if claim == "halved":
        return True if 2 * b == a else False if b >= 0.75 * a else None
    raise ValueError(f"unknown trend claim {claim!r}")


TREND_CLAIMS = {
    "higher": "{x} was higher in {y2} than in {y1}.",
    "lower": "{x} was lower in {y2} than in {y1}.",
    "reversed_higher": "{x} was higher in {y1} than in {y2}.",
    "rose": "{x} rose between {y1} and {y2}.",
    "fell": "{x} fell between {y1} and {y2}.",
    "doubled": "{x} doubled between {y1} and {y2}.",
    "more_than_doubled": "{x} more than doubled between {y1} and {y2}.",
    "halved": "{x} halved between {y1} and {y2}.",
}
# Claims about years the premise says nothing of.
TREND_UNKNOWNS = [
    "{x} was higher in {y3} than in {y2}.",
    "{x} rose again in {y3}.",
    "{x} was lower in {y0} than in {y1}.",
]


def _trend_template(premise: str, subject: str) -> Template:
    def make(rng: random.Random) -> list[Triple]:
        a = 2 * rng.randrange(5, 250)  # even, so that halving gives a whole number
        d = rng.randrange(1, a // 3)
        b = rng.choice([2 * a, 3 * a, a + d, a - d, a // 2])
        y1 = rng.randrange(1990, 2016)
        y2 = y1 + rng.randrange(1, 6)
        slots = {"company": rng.choice(COMPANIES), "city": rng.choice(CITIES)}
        text = premise.format(a=a, b=b, y1=y1, y2=y2, **slots)
        years = {"x": subject.format(**slots), "y0": y1 - rng.randrange(1, 4), "y1": y1, "y2": y2}
        years["y3"] = y2 + rng.randrange(1, 4)
        out = []
        for key, claim in TREND_CLAIMS.items():
            holds = trend_holds(key, a, b)
            if holds is not None:
                out.append((text, claim.format(**years), SUPPORT if holds else CONTRADICT))
        out += [(text, claim.format(**years), NEUTRAL) for claim in TREND_UNKNOWNS]
        return out

    return make
