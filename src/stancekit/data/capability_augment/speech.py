"""The ``symmetry`` (a swapped pair keeps its label) and ``reported_speech`` (denials, confirmations, no
comment) families."""

from __future__ import annotations

import random

from .vocabulary import (
    AUTHORITIES,
    CITIES,
    COMPANIES,
    CONTRADICT,
    FESTIVALS,
    ITEMS,
    NEUTRAL,
    STRUCTURES,
    SUPPORT,
    TEAMS,
    WEEKDAYS,
    Template,
    Triple,
    _people,
    _up,
)

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
