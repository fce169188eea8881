"""Training pairs for the skills the capability suite shows models lack, from templates with labels right by
construction.

Each family teaches one skill (measured pass rates of trained models in brackets):

* ``symmetry`` (0.00): a pair and its swap carry the same label. Contradicting pairs (mutually exclusive
  facts) come in both directions, and so do mutual paraphrases (``support``) and independent facts
  (``neutral``), so the lesson is "the direction does not matter", not "swapped means contradict"; each
  sentence appears under every label, so the claim alone does not give the label away.
* ``entity_swap`` (0.33): who did what to whom. "A beat B" contradicts "B beat A" and supports "B lost to A"
  (and the passive "B was beaten by A"); a relation to a third party, or a consequence the premise does
  not state, is ``neutral``.
* ``numbers`` (0.48): counts against "more than / fewer than / at least / at most / exactly / over / under",
  boundary values included (exactly n is not "more than n"), and two-year figures against "higher / lower
  / rose / fell / doubled / halved"; a figure for another place or year is ``neutral``.
* ``dates`` (0.66): year arithmetic (durations, age at an event), before / after, earlier / later and
  decades; what happened after the stated period is ``neutral``.
* ``empty_evidence`` (premise blanked, 0.05): an empty premise, or text with no content ("Share this
  article", a byline, a photo credit), gives ``neutral`` for any claim, so the model is never confidently
  ``support`` without evidence. The same boilerplate wrapped around real evidence leaves its label alone
  (``support`` / ``contradict``), so the model learns to read past it rather than to fear it.
* ``reported_speech``: a report that X was denied contradicts X, one that X was confirmed supports X, a
  refusal to comment leaves X open; "A claimed X, but B denied it" contradicts "B accepts X" and, like any
  report of a denial, X itself (what A does next stays open).

Every family except ``empty_evidence`` gives one pair per label in turn, so none teaches a label prior.

The vocabularies (people, teams, cities, companies, authorities...) and templates are this module's own and
disjoint from :mod:`stancekit.eval.capabilities`: trained on the suite's own strings, a model could pass
it by memory, and the pass rates would stop measuring the skill. ``tests/data/test_capability_augment.py``
fails if a suite name, city, team, organisation, document, verb phrase or filler sentence appears in a
generated pair, or if any generated sentence has the same template skeleton as a suite sentence. The one
string both share is the empty premise: it is the absence of evidence, which ``premise_blanked`` probes
and ``empty_evidence`` teaches, paired with claims of this module's own.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ..labels import LABEL2ID
from .adapters import Example

SUPPORT, CONTRADICT, NEUTRAL = "support", "contradict", "neutral"
SOURCE_PREFIX = "capability_aug"

# (premise, hypothesis, label name).
Triple = tuple[str, str, str]
# One template: a fresh scenario from the rng, as its candidate pairs (usually one premise, many claims).
Template = Callable[[random.Random], list[Triple]]

FIRST_NAMES = [
    "Nadia", "Oskar", "Ingrid", "Kwame", "Mei", "Rafael", "Yusuf", "Freya", "Mateo", "Aiko",
    "Dmitri", "Leila", "Pablo", "Zanele", "Henrik", "Ines", "Tariq", "Greta", "Emeka", "Soraya",
    "Viktor", "Camila", "Ravi", "Astrid", "Kofi", "Noor", "Bruno", "Yara", "Stefan", "Lucia",
]  # fmt: skip
LAST_NAMES = [
    "Haddad", "Lindqvist", "Mensah", "Tanaka", "Moreau", "Kowalski", "Silva", "Nakamura", "Brennan", "Osei",
    "Fischer", "Varga", "Ibrahim", "Castillo", "Horvat", "Jensen", "Ndlovu", "Lindgren", "Quinn", "Rahman",
    "Sorensen", "Takahashi", "Udeh", "Vidal", "Whitfield", "Yilmaz", "Zamora", "Okoye", "Bianchi", "Dubois",
]  # fmt: skip
TEAMS = [
    "Westmoor Athletic", "Kestrel Bay", "the Copper Foxes", "Stanbridge Rovers", "the Valley Herons",
    "Port Elwin", "Greyfield Town", "the Ironside Wolves", "Ashcombe Wanderers", "the Lakeshore Otters",
    "Brackley Albion", "the Summit Falcons", "Dunmore Celtic", "the Prairie Bison", "Holloway Borough",
    "the Coastline Sharks",
]  # fmt: skip
CITIES = [
    "Porto", "Mombasa", "Bergen", "Cebu", "Cuenca", "Tartu", "Kumasi", "Valparaiso", "Gdansk", "Brno",
    "Leeds", "Adelaide", "Rosario", "Izmir", "Tampere", "Lyon", "Graz", "Antwerp", "Krakow", "Dunedin",
    "Arequipa", "Mysore", "Daegu", "Kigali",
]  # fmt: skip
COMPANIES = [
    "Brightwater Foods", "Halvorsen Shipping", "Marlow Telecom", "Solvik Energy", "Pinecrest Logistics",
    "Orchard Lane Books", "Tidewell Pharmaceuticals", "Norrland Textiles", "Carrow Motors", "Bluefin Software",
    "Redstone Cement", "Amberley Hotels", "Quayside Brewing", "Silverline Rail", "Kingsmere Insurance",
    "Fernhill Dairy",
]  # fmt: skip
# Bodies that deny or confirm reports; singular, so "{authority} disputes that ..." reads right.
AUTHORITIES = [
    "the health department", "the port authority", "the national weather service", "the transport agency",
    "the state prosecutor's office", "the football federation", "the election commission", "the tax office",
    "the mayor's office", "the water board", "the national museum", "the defence department",
    "the foreign office", "the energy regulator", "the competition watchdog", "the fire service",
]  # fmt: skip
STRUCTURES = [
    "footbridge", "concert hall", "sports stadium", "metro line", "harbour wall", "ferry terminal",
    "children's hospital", "ring road", "water treatment plant", "art school",
]  # fmt: skip
FESTIVALS = [
    "jazz festival", "book fair", "film festival", "night market", "kite festival", "street parade",
    "flower show", "science fair", "wine fair", "choir festival",
]  # fmt: skip
RACES = [
    "half marathon", "ten-kilometre road race", "cross-country championship", "triathlon", "rowing regatta",
    "giant slalom", "cycling time trial", "open-water swim",
]  # fmt: skip
ROUNDS = ["the semi-final", "the quarter-final", "the opening round", "the second leg", "the derby", "the play-off"]
CLUBS = [
    "chess club", "rowing club", "residents' association", "tenants' union", "film society", "angling club",
    "cycling club", "gardening society",
]  # fmt: skip
ITEMS = ["sailing boat", "vintage car", "landscape painting", "grand piano", "farmhouse", "motorbike", "food truck"]
ACHIEVEMENTS = [
    "published a debut novel", "opened a first restaurant", "won a national chess title", "earned a pilot's licence",
    "recorded a debut album", "ran a first marathon", "founded a software start-up", "sailed solo across the Atlantic",
    "qualified as a surgeon",
]  # fmt: skip
AWARDS = [
    "national poetry prize", "young scientist medal", "regional architecture award", "lifetime service award",
    "press freedom prize", "chef of the year title",
]  # fmt: skip
WIRES = ["Reuters", "AFP", "AP", "dpa", "EFE", "ANSA"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]

# Text with no content: page furniture, credits and bylines scraped along with an article. ``{name}``,
# ``{name2}``, ``{wire}``, ``{time}`` and ``{year}`` are filled in.
BOILERPLATE = [
    "Click here to subscribe.", "Photo: Getty Images", "Share this article", "What to know", "Advertisement",
    "Read more", "Sign up for our daily newsletter.", "Image: {wire}", "Skip to main content",
    "Listen to this article", "Comments are closed.", "Follow us on social media.", "Cookie settings",
    "Related stories", "Loading...", "All rights reserved.", "Subscribe for full access.",
    "This video is not available in your region.", "Print this page", "Most read", "Story continues below",
    "File photo", "Updated {time} GMT", "By {name}, staff reporter", "By {name} and {name2}",
    "{name} contributed reporting.", "Copyright {year} {wire}", "Reporting by {name}; editing by {name2}",
]  # fmt: skip


def _up(text: str) -> str:
    """``text`` with its first letter upper-case (a sentence may start with "the port authority")."""
    return text[:1].upper() + text[1:]


def _people(rng: random.Random, k: int) -> list[str]:
    """``k`` different full names, no first or last name shared (so a claim cannot half-match)."""
    firsts, lasts = rng.sample(FIRST_NAMES, k), rng.sample(LAST_NAMES, k)
    return [f"{first} {last}" for first, last in zip(firsts, lasts)]


def _offset(rng: random.Random, low: int = 1, high: int = 6) -> int:
    """A small gap in years (or units) for a claim that is off by a little, not by a mile."""
    return rng.randrange(low, high)


# --- entity_swap: who did what to whom -------------------------------------------------------------------


def _match(rng: random.Random) -> list[Triple]:
    a, b = rng.sample(TEAMS, 2)
    s1 = rng.randrange(1, 6)
    s2 = rng.randrange(0, s1)
    rnd = rng.choice(ROUNDS)
    premise = rng.choice([f"{_up(a)} beat {b} {s1}-{s2} in {rnd}.", f"{_up(b)} was beaten {s1}-{s2} by {a} in {rnd}."])
    return [
        (premise, f"{_up(b)} beat {a} in {rnd}.", CONTRADICT),
        (premise, f"{_up(a)} lost to {b} in {rnd}.", CONTRADICT),
        (premise, f"{_up(b)} scored more goals than {a} in {rnd}.", CONTRADICT),
        (premise, f"{_up(b)} lost {s2}-{s1} to {a} in {rnd}.", SUPPORT),
        (premise, f"{_up(a)} scored more goals than {b} in {rnd}.", SUPPORT),
        (premise, f"{_up(b)} suffered a defeat against {a}.", SUPPORT),
        (premise, f"{_up(a)} went on to lift the trophy.", NEUTRAL),
        (premise, f"{_up(b)} had beaten {a} earlier in the season.", NEUTRAL),
    ]


def _race(rng: random.Random) -> list[Triple]:
    p1, p2, p3 = _people(rng, 3)
    race, city = rng.choice(RACES), rng.choice(CITIES)
    premise = rng.choice(
        [f"{p1} finished ahead of {p2} in the {race} in {city}.", f"In the {city} {race}, {p2} came in behind {p1}."]
    )
    return [
        (premise, f"{p2} finished ahead of {p1} in the {race}.", CONTRADICT),
        (premise, f"{p1} finished behind {p2} in the {race}.", CONTRADICT),
        (premise, f"{p2} finished behind {p1} in the {race}.", SUPPORT),
        (premise, f"{p1} crossed the line before {p2}.", SUPPORT),
        (premise, f"{p1} won the {race}.", NEUTRAL),
        (premise, f"{p3} finished behind {p2} in the {race}.", NEUTRAL),
    ]


def _age(rng: random.Random) -> list[Triple]:
    p1, p2, p3 = _people(rng, 3)
    k = rng.randrange(2, 15)
    premise = rng.choice([f"{p1} is {k} years older than {p2}.", f"{p2} is {k} years younger than {p1}."])
    return [
        (premise, f"{p2} is older than {p1}.", CONTRADICT),
        (premise, f"{p1} is younger than {p2}.", CONTRADICT),
        (premise, f"{p2} was born {k} years before {p1}.", CONTRADICT),
        (premise, f"{p2} is younger than {p1}.", SUPPORT),
        (premise, f"{p1} was born before {p2}.", SUPPORT),
        (premise, f"{p1} is older than {p3}.", NEUTRAL),
        (premise, f"{p2} and {p3} are the same age.", NEUTRAL),
    ]


def _goal(rng: random.Random) -> list[Triple]:
    p1, p2, p3 = _people(rng, 3)
    team = rng.choice(TEAMS)
    premise = rng.choice(
        [
            f"The winning goal against {team} was scored by {p1} from a pass by {p2}.",
            f"{p2} set up {p1}, who scored the winning goal against {team}.",
        ]
    )
    return [
        (premise, f"{p2} scored the winning goal against {team}.", CONTRADICT),
        (premise, f"{p1} provided the pass for the winning goal against {team}.", CONTRADICT),
        (premise, f"{p3} scored the winning goal against {team}.", CONTRADICT),
        (premise, f"{p1} scored the winning goal against {team}.", SUPPORT),
        (premise, f"The pass for the winning goal against {team} came from {p2}.", SUPPORT),
        (premise, f"{p1} was named player of the match.", NEUTRAL),
        (premise, f"{p2} was substituted late in the game against {team}.", NEUTRAL),
    ]


def _election(rng: random.Random) -> list[Triple]:
    p1, p2 = _people(rng, 2)
    club, n = rng.choice(CLUBS), rng.randrange(2, 60)
    premise = rng.choice(
        [
            f"{p1} was elected chair of the {club}, beating {p2} by {n} votes.",
            f"{p2} lost the race to chair the {club} to {p1}, by {n} votes.",
        ]
    )
    return [
        (premise, f"{p2} was elected chair of the {club}.", CONTRADICT),
        (premise, f"{p1} lost the vote for chair of the {club}.", CONTRADICT),
        (premise, f"{p1} was elected without an opponent.", CONTRADICT),
        (premise, f"{p2} lost the vote for chair of the {club} to {p1}.", SUPPORT),
        (premise, f"{p1} now chairs the {club}.", SUPPORT),
        (premise, f"{p2} had chaired the {club} before.", NEUTRAL),
        (premise, f"{p1} will serve a three-year term.", NEUTRAL),
    ]


def _employer(rng: random.Random) -> list[Triple]:
    c1, c2 = rng.sample(COMPANIES, 2)
    city, elsewhere = rng.sample(CITIES, 2)
    premise = rng.choice(
        [
            f"{c1} has overtaken {c2} as the largest employer in {city}.",
            f"{c2} has been overtaken by {c1} as the largest employer in {city}.",
        ]
    )
    return [
        (premise, f"{c2} now employs more people in {city} than {c1}.", CONTRADICT),
        (premise, f"{c2} has overtaken {c1} as the largest employer in {city}.", CONTRADICT),
        (premise, f"{c1} now employs more people in {city} than {c2}.", SUPPORT),
        (premise, f"{c2} used to be the largest employer in {city}.", SUPPORT),
        (premise, f"{c1} is also the largest employer in {elsewhere}.", NEUTRAL),
        (premise, f"{c2} plans to cut jobs in {city}.", NEUTRAL),
    ]


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


# --- dates: year arithmetic and the order of events -------------------------------------------------------


def _year_claims(text: str, claim: str, true_year: int, rng: random.Random, relation: str = "==") -> list[Triple]:
    """``claim`` (with ``{y}``) for the true year and years either side, labelled by ``relation``:
    ``==`` (in that year), ``<`` (before / earlier than ``y``), ``>`` (after / later than ``y``)."""
    j = _offset(rng)
    out = []
    for y in (true_year, true_year - j, true_year + j):
        holds = {"==": true_year == y, "<": true_year < y, ">": true_year > y}[relation]
        out.append((text, claim.format(y=y), SUPPORT if holds else CONTRADICT))
    return out


def _tenure(rng: random.Random) -> list[Triple]:
    person, company = _people(rng, 1)[0], rng.choice(COMPANIES)
    y1, k = rng.randrange(1975, 2012), rng.randrange(2, 12)
    y2 = y1 + k
    text = rng.choice(
        [f"{person} joined {company} in {y1} and left in {y2}.", f"{person} worked at {company} from {y1} until {y2}."]
    )
    j = _offset(rng, 1, min(k, 5))
    decade = y1 // 10 * 10
    return [
        (text, f"{person} spent {k} years at {company}.", SUPPORT),
        (text, f"{person} spent {k - j if k - j >= 2 else k + j} years at {company}.", CONTRADICT),
        (text, f"{person} was still at {company} in {y1 + rng.randrange(1, k)}.", SUPPORT),
        (text, f"{person} was already at {company} in {y1 - j}.", CONTRADICT),
        (text, f"{person} joined {company} in the {decade}s.", SUPPORT),
        (text, f"{person} joined {company} in the {decade + rng.choice([-10, 10])}s.", CONTRADICT),
        *_year_claims(text, f"{person} left {company} before {{y}}.", y2, rng, "<"),
        *_year_claims(text, f"{person} joined {company} after {{y}}.", y1, rng, ">"),
        (text, f"{person} later returned to {company}.", NEUTRAL),
        (text, f"{person} joined {company} straight from school.", NEUTRAL),
    ]


def _construction(rng: random.Random) -> list[Triple]:
    thing, city = rng.choice(STRUCTURES), rng.choice(CITIES)
    y1, k = rng.randrange(1960, 2015), rng.randrange(2, 9)
    y2 = y1 + k
    text = rng.choice(
        [
            f"Work on the {thing} in {city} began in {y1} and ended {k} years later.",
            f"The {thing} in {city} was completed in {y2}, {k} years after building work started.",
        ]
    )
    j = _offset(rng, 1, 4)
    return [
        *_year_claims(text, f"The {thing} in {city} was completed in {{y}}.", y2, rng),
        *_year_claims(text, f"Construction of the {thing} in {city} started in {{y}}.", y1, rng),
        *_year_claims(text, f"The {thing} in {city} was finished earlier than {{y}}.", y2, rng, "<"),
        *_year_claims(text, f"The {thing} in {city} was finished later than {{y}}.", y2, rng, ">"),
        (text, f"Building the {thing} in {city} took {k} years.", SUPPORT),
        (text, f"Building the {thing} in {city} took {k + j} years.", CONTRADICT),
        (text, f"The {thing} in {city} cost more than planned.", NEUTRAL),
        (text, f"The {thing} in {city} is due to be renovated.", NEUTRAL),
    ]


def _age_at(rng: random.Random) -> list[Triple]:
    person, feat, city = _people(rng, 1)[0], rng.choice(ACHIEVEMENTS), rng.choice(CITIES)
    age = rng.randrange(15, 60)
    born = rng.randrange(1935, 2020 - age)  # the event is in the past
    text = rng.choice(
        [f"{person}, who was born in {born}, {feat} at the age of {age}.", f"Born in {born}, {person} {feat} at {age}."]
    )
    j = _offset(rng)
    turning = rng.choice([age, age + j, age - j])
    teen = 13 <= age <= 19
    return [
        *_year_claims(text, f"{person} {feat} in {{y}}.", born + age, rng),
        *_year_claims(text, f"{person} was born after {{y}}.", born, rng, ">"),
        (text, f"{person} {feat} before turning {turning}.", SUPPORT if age < turning else CONTRADICT),
        (text, f"{person} {feat} as a teenager.", SUPPORT if teen else CONTRADICT),
        (text, f"{person} {feat} while living in {city}.", NEUTRAL),
        (text, f"{person} later moved to {city}.", NEUTRAL),
    ]


def _festivals(rng: random.Random) -> list[Triple]:
    older, newer = rng.sample(FESTIVALS, 2)
    city = rng.choice(CITIES)
    y1, k = rng.randrange(1950, 2004), rng.randrange(2, 20)
    y2 = y1 + k
    text = rng.choice(
        [
            f"The {city} {older} was first held in {y1}, {k} years before the first {city} {newer}.",
            f"The first {city} {newer} took place in {y2}, {k} years after the {city} {older} began.",
        ]
    )
    return [
        (text, f"The {city} {newer} started earlier than the {city} {older}.", CONTRADICT),
        (text, f"The {city} {older} and the {city} {newer} started in the same year.", CONTRADICT),
        (text, f"The {city} {older} is older than the {city} {newer}.", SUPPORT),
        (text, f"The {city} {newer} began later than the {city} {older}.", SUPPORT),
        *_year_claims(text, f"The first {city} {newer} was held in {{y}}.", y2, rng),
        *_year_claims(text, f"The {city} {older} began in {{y}}.", y1, rng),
        (text, f"The {city} {newer} has been cancelled at least once.", NEUTRAL),
        (text, f"The {city} {older} draws bigger crowds than the {city} {newer}.", NEUTRAL),
    ]


def _award_order(rng: random.Random) -> list[Triple]:
    first, second, third = _people(rng, 3)
    award = rng.choice(AWARDS)
    y1, k = rng.randrange(1960, 2008), rng.randrange(2, 15)
    y2 = y1 + k
    text = rng.choice(
        [
            f"{first} won the {award} in {y1}, {k} years earlier than {second}.",
            f"{second} won the {award} in {y2}, {k} years after {first} had won it.",
        ]
    )
    return [
        (text, f"{second} won the {award} before {first}.", CONTRADICT),
        (text, f"{first} and {second} won the {award} in the same year.", CONTRADICT),
        (text, f"{first} won the {award} first.", SUPPORT),
        (text, f"{first} won the {award} {k} years before {second}.", SUPPORT),
        (text, f"{second} won the {award} {k} years before {first}.", CONTRADICT),
        *_year_claims(text, f"{second} won the {award} in {{y}}.", y2, rng),
        *_year_claims(text, f"{first} won the {award} in {{y}}.", y1, rng),
        (text, f"{third} won the {award} after {second}.", NEUTRAL),
        (text, f"{first} won the {award} twice.", NEUTRAL),
    ]


# --- symmetry: the swapped pair keeps its label ------------------------------------------------------------

# Groups of (statement, its contradiction, its paraphrase), by subject. Each pair a group makes has the same
# label in both directions: statement and contradiction exclude each other, statement and paraphrase say the
# same thing, and a sentence of one group next to one of another (same subject, other places, people and
# years) is independent. Every sentence thus meets every label, so the claim alone gives the label away as
# little as the direction does. Slots: {p}, {p2}, {city}, {city2}, {company}, {team}, {year}, {thing}, {item}.
SYMMETRY_GROUPS: dict[str, list[tuple[str, str, str]]] = {
    "person": [
        (
            "{p} passed the driving test in {city}.",
            "{p} failed the driving test in {city}.",
            "{p} was successful in the driving test in {city}.",
        ),
        ("{p} was acquitted of tax fraud.", "{p} was found guilty of tax fraud.", "{p} was cleared of tax fraud."),
        ("{p} has never been to {city}.", "{p} visited {city} last spring.", "{p} has not once visited {city}."),
        ("{p} is an only child.", "{p} has two older sisters.", "{p} has no brothers or sisters."),
        ("{p} is a lifelong vegetarian.", "{p} eats meat every day.", "{p} has never eaten meat."),
        (
            "{p} sold the {item} to {p2}.",
            "{p} still owns the {item} and has never sold it.",
            "{p2} bought the {item} from {p}.",
        ),
        (
            "{p} and {p2} got married in {year}.",
            "{p} and {p2} have never been married to each other.",
            "{p2} married {p} in {year}.",
        ),
        (
            "{p} has lived in {city} since {year}.",
            "{p} has never lived in {city}.",
            "Since {year}, {city} has been home to {p}.",
        ),
        ("{p} is taller than {p2}.", "{p2} is taller than {p}.", "{p2} is shorter than {p}."),
    ],
    "company": [
        (
            "{company} kept its factory in {city} open.",
            "{company} shut down its factory in {city}.",
            "{company} did not close its factory in {city}.",
        ),
        (
            "{company} made a profit in {year}.",
            "{company} made a loss in {year}.",
            "{company} was profitable in {year}.",
        ),
        (
            "{company} moved its headquarters from {city} to {city2}.",
            "{company} has always had its headquarters in {city}.",
            "{company}'s headquarters moved from {city} to {city2}.",
        ),
    ],
    "team": [
        (
            "{team} has never won the league.",
            "{team} won the league in {year}.",
            "{team} has yet to win a league title.",
        ),
        (
            "{team} was relegated in {year}.",
            "{team} avoided relegation in {year}.",
            "{team} went down a division in {year}.",
        ),
    ],
    "structure": [
        (
            "The {thing} in {city} was finished ahead of schedule.",
            "The {thing} in {city} was finished behind schedule.",
            "The {thing} in {city} was completed earlier than planned.",
        ),
        (
            "The {thing} in {city} was designed by {p}.",
            "{p} had no part in designing the {thing} in {city}.",
            "{p} is the designer of the {thing} in {city}.",
        ),
    ],
}


def _symmetry_slots(rng: random.Random) -> tuple[dict, dict]:
    """Slots for a group, and slots for an independent sentence about the same subject (all else differs)."""
    p, p2, p3 = _people(rng, 3)
    cities = rng.sample(CITIES, 4)
    things, items = rng.sample(STRUCTURES, 2), rng.sample(ITEMS, 2)
    year = rng.randrange(1980, 2020)
    shared = {"p": p, "company": rng.choice(COMPANIES), "team": _up(rng.choice(TEAMS))}
    first = {**shared, "p2": p2, "city": cities[0], "city2": cities[1], "year": year, "thing": things[0]}
    other = {**shared, "p2": p3, "city": cities[2], "city2": cities[3], "year": year + rng.randrange(1, 4)}
    return {**first, "item": items[0]}, {**other, "thing": things[1], "item": items[1]}


def _symmetry_group(kind: str, index: int) -> Template:
    def make(rng: random.Random) -> list[Triple]:
        slots, other_slots = _symmetry_slots(rng)
        statement, contradiction, paraphrase = (t.format(**slots) for t in SYMMETRY_GROUPS[kind][index])
        others = [g for i, g in enumerate(SYMMETRY_GROUPS[kind]) if i != index]
        unrelated = rng.choice(rng.choice(others)).format(**other_slots)
        pairs = [
            (statement, contradiction, CONTRADICT),
            (statement, paraphrase, SUPPORT),
            (rng.choice([statement, contradiction, paraphrase]), unrelated, NEUTRAL),
        ]
        return [t for a, b, label in pairs for t in ((a, b, label), (b, a, label))]

    return make


# --- reported speech: denials, confirmations, no comment ---------------------------------------------------

# Claims a report can deny or confirm, as clauses (lower-case start where the subject allows). Slots: {p},
# {company}, {company2}, {city}, {festival}, {team}, {team2}, {n}.
REPORTED_CLAIMS = [
    "{p} resigned from the board of {company}",
    "{company} will close its warehouse in {city}",
    "{p} will stand for mayor of {city}",
    "{company} is being taken over by {company2}",
    "{p} tested positive for a banned substance",
    "{company} paid a fine of {n} million euros",
    "the {city} {festival} has been cancelled",
    "{team} sacked its head coach",
    "{p} was arrested in {city}",
    "{p} is leaving {team} for {team2}",
]
# Frames with {authority}, {day} and the claim {x}: a denial contradicts the claim, a confirmation supports
# it, no verdict leaves it open. None is a frame of the capability suite ("denied reports that" is).
DENIALS = [
    "{authority} dismissed as false the claim that {x}.",
    "Claims that {x} were rejected as baseless by {authority}.",
    "{authority} flatly denied that {x}.",
    "A spokesperson for {authority} said there was no truth in rumours that {x}.",
    "{authority} was quick to deny suggestions that {x}.",
    "Officials at {authority} ruled out any possibility that {x}.",
    "Rumours that {x} turned out to be false, according to {authority}.",
]
CONFIRMATIONS = [
    "{authority} acknowledged on {day} that {x}.",
    "A spokesperson for {authority} admitted that {x}.",
    "Rumours that {x} turned out to be true, according to {authority}.",
    "{authority} verified claims that {x}.",
    "Documents released by {authority} show that {x}.",
    "It is now official that {x}, {authority} announced.",
]
NO_VERDICT = [
    "{authority} would neither confirm nor deny that {x}.",
    "{authority} said it was looking into claims that {x}.",
    "{authority} declined to comment on rumours that {x}.",
    "It remains unclear whether {x}, {authority} said.",
]
# A third party's claim that the authority then denied or confirmed ({source} is a person).
DISPUTED = [
    "{source} claimed that {x}, but {authority} denied it.",
    "{source} said that {x}; {authority} disputed this.",
]
CORROBORATED = [
    "{source} claimed that {x}, and {authority} later confirmed it.",
    "According to {source}, {x}, which {authority} has since confirmed.",
]
REPORT_LABELS = {**dict.fromkeys(DENIALS, CONTRADICT), **dict.fromkeys(CONFIRMATIONS, SUPPORT)}
REPORT_LABELS.update(dict.fromkeys(NO_VERDICT, NEUTRAL))


def _reported_clause(rng: random.Random, template: str) -> tuple[str, str]:
    """A claim clause from ``template`` and the name of its subject person (for picking a different source)."""
    p = _people(rng, 1)[0]
    company, company2 = rng.sample(COMPANIES, 2)
    team, team2 = rng.sample(TEAMS, 2)
    slots = {
        "p": p, "company": company, "company2": company2, "city": rng.choice(CITIES),
        "festival": rng.choice(FESTIVALS), "team": team, "team2": team2, "n": rng.randrange(2, 90),
    }  # fmt: skip
    return template.format(**slots), p


def _direct_reports(rng: random.Random) -> list[Triple]:
    """One claim under a denial, a confirmation and a no-verdict frame: the frame alone sets the label."""
    x, _ = _reported_clause(rng, rng.choice(REPORTED_CLAIMS))
    claim = _up(x) + "."
    out = []
    for frames in (DENIALS, CONFIRMATIONS, NO_VERDICT):
        frame = rng.choice(frames)
        premise = frame.format(x=x, authority=rng.choice(AUTHORITIES), day=rng.choice(WEEKDAYS))
        out.append((_up(premise), claim, REPORT_LABELS[frame]))
    return out


def _disputed_report(rng: random.Random) -> list[Triple]:
    """A claimed X, but B denied it: that contradicts "B accepts X"; "..., and B confirmed it" supports X.

    As with a plain report, B's denial or confirmation is what settles X; what A does next stays open.
    """
    x, subject = _reported_clause(rng, rng.choice(REPORTED_CLAIMS))
    source = next(name for name in _people(rng, 2) if name != subject)
    authority = rng.choice(AUTHORITIES)
    denied = rng.random() < 0.5
    premise = _up(rng.choice(DISPUTED if denied else CORROBORATED).format(x=x, authority=authority, source=source))
    accepts, disputes = f"{_up(authority)} accepts that {x}.", f"{_up(authority)} disputes that {x}."
    later = (premise, f"{source} later withdrew the claim that {x}.", NEUTRAL)
    if denied:
        return [
            (premise, _up(x) + ".", CONTRADICT),
            (premise, accepts, CONTRADICT),
            (premise, disputes, SUPPORT),
            (premise, f"{source} has claimed that {x}.", SUPPORT),
            later,
        ]
    return [
        (premise, _up(x) + ".", SUPPORT),
        (premise, accepts, SUPPORT),
        (premise, disputes, CONTRADICT),
        later,
    ]


# --- the families ------------------------------------------------------------------------------------------

TEMPLATES: dict[str, list[Template]] = {
    "symmetry": [_symmetry_group(kind, i) for kind, groups in SYMMETRY_GROUPS.items() for i in range(len(groups))],
    "entity_swap": [_match, _race, _age, _goal, _election, _employer],
    "numbers": [_count_template(*t) for t in COUNT_TEMPLATES] + [_trend_template(*t) for t in TREND_TEMPLATES],
    "dates": [_tenure, _construction, _age_at, _festivals, _award_order],
    # Direct reports twice as often: "a denial of X contradicts X" is the skill; disputes are its variation.
    "reported_speech": [_direct_reports, _direct_reports, _disputed_report],
}
# Where the content-free premises' claims, and the evidence wrapped in boilerplate, come from.
EVIDENCE_FAMILIES = ("entity_swap", "numbers", "dates", "reported_speech")
FAMILIES = ("symmetry", "entity_swap", "numbers", "dates", "empty_evidence", "reported_speech")
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
    if family == "symmetry":  # one pair of each label, both directions
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
            out.append(
                {
                    "id": f"{SOURCE_PREFIX}:{family}:{seed}:{len(out)}",
                    "premise": premise,
                    "hypothesis": hypothesis,
                    "label": LABEL2ID[label],
                    "source": f"{SOURCE_PREFIX}:{family}",
                }
            )
    return out


def capability_pairs(n: int, seed: int) -> list[Example]:
    """``n`` distinct labelled pairs, about equally many of each family of :data:`FAMILIES`, shuffled.

    Deterministic for a seed. Each pair is an :data:`Example` whose ``source`` names its family
    (``capability_aug:numbers``) and whose ``id`` is unique within one call.
    """
    if n <= 0:
        return []
    seen: set[tuple[str, str]] = set()
    out: list[Example] = []
    for family, quota in zip(FAMILIES, _quotas(n, len(FAMILIES))):
        out += _family_pairs(family, quota, seed, seen)
    random.Random(f"{seed}-{SOURCE_PREFIX}").shuffle(out)
    return out
