"""The ``overlap`` family: sharing the evidence's words is not agreeing with it.

Models trained on crowd-written NLI learn that a claim repeating most of the evidence's words is supported
by it (McCoy et al., 2019, "Right for the wrong reasons"). A fact-checker's claims are often exactly that: the
report's own words with the outcome turned round ("... would shut down its plant" against "... will keep its
plant running"). Each scenario here has two sentences for an outcome and two for its opposite, one of each
pair close in wording to the other side's, so:

* the other sentence of the same outcome, in different words, is ``support``;
* a sentence of the opposite outcome, whether it shares the words or not, is ``contradict``;
* a sentence with the evidence's words about another place, team or company, which the evidence does not
  mention, is ``neutral``.

The premise is any of the four sentences, so every sentence meets every label and the claim alone says
nothing; it sometimes carries a sentence of context that the claims never mention.
"""

from __future__ import annotations

import random

from .vocabulary import (
    AUTHORITIES,
    CITIES,
    COMPANIES,
    CONTRADICT,
    FESTIVALS,
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

FACILITIES = [
    "bottling plant", "warehouse", "call centre", "repair depot", "research lab", "flagship store",
    "training academy", "distribution hub", "printing works", "bakery",
]  # fmt: skip

# (outcome, outcome in other words, opposite close in wording to the outcome, opposite in other words, the
# slot whose swap makes the neutral claim: SWAPS). Slots: {s}, {s2}, {p}, {team}, {city}, {facility},
# {festival}, {structure}, {authority}.
SCENARIOS: list[tuple[str, str, str, str, str]] = [
    (
        "{s} will shut down its {facility} in {city}.",
        "The {facility} that {s} runs in {city} is to close for good.",
        "{s} will keep its {facility} in {city} running.",
        "The {facility} that {s} runs in {city} is staying open.",
        "city",
    ),
    (
        "{s} will sell its stake in {s2}.",
        "{s} is getting rid of the shares it holds in {s2}.",
        "{s} will hold on to its stake in {s2}.",
        "{s} has no plans to part with its shares in {s2}.",
        "s2",
    ),
    (
        "{s} will end its sponsorship of {team}.",
        "{team} is losing {s} as its sponsor.",
        "{s} will extend its sponsorship of {team}.",
        "{team} keeps {s} as its sponsor for another season.",
        "team",
    ),
    (
        "This year's {festival} in {city} has been called off.",
        "There will be no {festival} in {city} this year.",
        "This year's {festival} in {city} will go ahead as planned.",
        "{city} will hold its {festival} this year as usual.",
        "city",
    ),
    (
        "{s} has dropped its plan to build a {structure} in {city}.",
        "{s} will not build the {structure} it had planned for {city}.",
        "{s} is pressing ahead with its plan to build a {structure} in {city}.",
        "{s} still intends to build the {structure} it planned for {city}.",
        "city",
    ),
    (
        "{p} will step down from the board of {s}.",
        "{p} is giving up a seat on the board of {s}.",
        "{p} will remain on the board of {s}.",
        "{p} is keeping a seat on the board of {s}.",
        "s",
    ),
    (
        "{s} will suspend its ferry service to {city}.",
        "Ferries run by {s} will stop sailing to {city} for now.",
        "{s} will keep its ferry service to {city} going.",
        "Ferries run by {s} will carry on sailing to {city}.",
        "city",
    ),
    (
        "{p} will leave {team} at the end of the season.",
        "{team} is losing {p}, who departs when the season ends.",
        "{p} will stay at {team} beyond the end of the season.",
        "{p} has agreed to remain with {team} next season.",
        "p",
    ),
    (
        "{authority} has withdrawn the operating licence of the {facility} in {city}.",
        "The {facility} in {city} may no longer operate, {authority} ruled.",
        "{authority} has renewed the operating licence of the {facility} in {city}.",
        "The {facility} in {city} may keep operating, {authority} ruled.",
        "city",
    ),
    (
        "Workers at the {facility} in {city} will go on strike next week.",
        "Next week the {facility} in {city} faces a walkout by its workers.",
        "Workers at the {facility} in {city} have called off next week's strike.",
        "There will be no walkout at the {facility} in {city} next week after all.",
        "city",
    ),
]
# A sentence of context after the evidence, which no claim mentions.
CONTEXT = [
    "The decision was announced on {weekday}.",
    "{p2} shared the news with staff on {weekday}.",
    "Local media first reported it on {weekday}.",
    "Details are expected later this month.",
]
# The slot a neutral claim swaps, and what for: another place, company, team or person.
SWAPS = {"city": "city2", "s2": "s3", "team": "team2", "s": "s2", "p": "p3"}


def _slots(rng: random.Random) -> dict[str, str]:
    s, s2, s3 = rng.sample(COMPANIES, 3)
    team, team2 = rng.sample(TEAMS, 2)
    city, city2 = rng.sample(CITIES, 2)
    p, p2, p3 = _people(rng, 3)
    return {
        "s": s, "s2": s2, "s3": s3, "team": team, "team2": team2, "city": city, "city2": city2,
        "p": p, "p2": p2, "p3": p3,
        "facility": rng.choice(FACILITIES), "festival": rng.choice(FESTIVALS), "structure": rng.choice(STRUCTURES),
        "authority": rng.choice(AUTHORITIES), "weekday": rng.choice(WEEKDAYS),
    }  # fmt: skip


def _fill(template: str, slots: dict[str, str]) -> str:
    return _up(template.format(**slots))


def _scenario(index: int) -> Template:
    outcome, outcome_other, opposite, opposite_other, swap = SCENARIOS[index]

    def make(rng: random.Random) -> list[Triple]:
        slots = _slots(rng)
        sides = [(outcome, outcome_other), (opposite, opposite_other)]
        side = rng.randrange(2)
        own, other = sides[side], sides[1 - side]
        which = rng.randrange(2)
        premise = _fill(own[which], slots)
        if rng.random() < 0.4:
            premise = f"{premise} {_fill(rng.choice(CONTEXT), slots)}"
        swapped = {**slots, swap: slots[SWAPS[swap]]}
        return [
            (premise, _fill(own[1 - which], slots), SUPPORT),
            *[(premise, _fill(sentence, slots), CONTRADICT) for sentence in other],
            # The evidence's own words (or the opposite's) about something the evidence does not mention.
            *[(premise, _fill(sentence, swapped), NEUTRAL) for sentence in (own[0], other[0])],
        ]

    return make


OVERLAP_TEMPLATES: list[Template] = [_scenario(i) for i in range(len(SCENARIOS))]
