"""The ``entity_swap`` (who did what to whom) and ``dates`` (year arithmetic, the order of events) families."""

from __future__ import annotations

import random

from .vocabulary import (
    ACHIEVEMENTS,
    AWARDS,
    CITIES,
    CLUBS,
    COMPANIES,
    CONTRADICT,
    FESTIVALS,
    NEUTRAL,
    RACES,
    ROUNDS,
    STRUCTURES,
    SUPPORT,
    TEAMS,
    Triple,
    _offset,
    _people,
    _up,
)

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
