"""The ``paraphrase`` family: one event told two ways carries the same label against the same claim.

News says one thing in many shapes: the attribution first or last ("X said on Tuesday that ..." / "..., X
said"), active or passive ("A will buy B" / "B is to be taken over by A"), one verb or its synonym ("close" /
"shut down", "called off" / "cancelled"). A model whose label flips with the shape reads the wording, not the
content. Each scenario is one event in two of its phrasings, each paired with one claim of every label, so the
two premises of an event always meet the same claims with the same labels.
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

# One event: (its phrasings, {label: claims}). Slots: {company}, {company2}, {city}, {city2}, {p}, {team},
# {team2}, {authority}, {festival}, {structure}, {day}, {n} (a small number).
Event = tuple[list[str], dict[str, list[str]]]
PARAPHRASE_EVENTS: list[Event] = [
    (
        [
            "{company} will close its warehouse in {city}, a spokesperson said on {day}.",
            "On {day}, a spokesperson for {company} said the firm's {city} warehouse would shut down.",
            "The warehouse that {company} runs in {city} is to close, the firm confirmed on {day}.",
        ],
        {
            SUPPORT: ["{company} is shutting its {city} warehouse.", "The {city} warehouse of {company} will close."],
            CONTRADICT: [
                "{company} will keep its {city} warehouse open.",
                "{company} has no plans to close its warehouse in {city}.",
            ],
            NEUTRAL: [
                "{company} will open a new warehouse in {city2}.",
                "{company} is moving its head office to {city2}.",
            ],
        },
    ),
    (
        [
            "{company} has agreed to buy {company2}, the two firms said on {day}.",
            "{company2} is to be taken over by {company}, under a deal announced on {day}.",
            "In a deal announced on {day}, {company} will acquire its rival {company2}.",
        ],
        {
            SUPPORT: ["{company} is buying {company2}.", "{company2} will become part of {company}."],
            CONTRADICT: [
                "{company2} will stay independent of {company}.",
                "{company} has dropped its plan to buy {company2}.",
            ],
            NEUTRAL: [
                "{company2} will cut {n}0 jobs after the takeover.",
                "{company} is paying more for {company2} than analysts expected.",
            ],
        },
    ),
    (
        [
            "{company} plans to hire {n}0 engineers in {city} next year, its chief executive said.",
            "The chief executive of {company} said the firm would take on {n}0 engineers in {city} next year.",
            "Next year {company} will recruit {n}0 engineers for its {city} site, according to its chief executive.",
        ],
        {
            SUPPORT: ["{company} is hiring engineers in {city}.", "{company} will add engineers in {city} next year."],
            CONTRADICT: [
                "{company} has frozen hiring in {city} for next year.",
                "{company} will not take on any engineers in {city} next year.",
            ],
            NEUTRAL: ["{company} will raise engineers' pay next year.", "{company} is hiring engineers in {city2}."],
        },
    ),
    (
        [
            "Organisers said on {day} that this year's {festival} in {city} has been called off.",
            "This year's {city} {festival} will not go ahead, its organisers announced on {day}.",
            "The {festival} in {city} has been scrapped for this year, organisers confirmed on {day}.",
        ],
        {
            SUPPORT: ["There will be no {festival} in {city} this year.", "The {city} {festival} is off this year."],
            CONTRADICT: [
                "The {city} {festival} will go ahead as planned this year.",
                "This year's {festival} in {city} will take place as usual.",
            ],
            NEUTRAL: [
                "The {city} {festival} will move to a bigger venue next year.",
                "This year's {festival} in {city2} will go ahead.",
            ],
        },
    ),
    (
        [
            "{authority} has put off the vote on the new {structure} until next spring.",
            "The vote on the new {structure} has been postponed by {authority} until next spring.",
            "Until next spring there will be no vote on the new {structure}, {authority} said.",
        ],
        {
            SUPPORT: [
                "The vote on the new {structure} has been delayed.",
                "No vote on the new {structure} will be held before spring.",
            ],
            CONTRADICT: [
                "The vote on the new {structure} went ahead as scheduled.",
                "{authority} held the vote on the new {structure} this week.",
            ],
            NEUTRAL: [
                "The new {structure} will cost more than first planned.",
                "Work on the new {structure} will be done by a firm from {city2}.",
            ],
        },
    ),
    (
        [
            "{p} stepped down as chief executive of {company} on {day}, the firm said.",
            "{company} said on {day} that its chief executive, {p}, had resigned.",
            "On {day}, {p} quit as head of {company}, according to a statement from the firm.",
        ],
        {
            SUPPORT: ["{p} is no longer the chief executive of {company}.", "{p} has left the top job at {company}."],
            CONTRADICT: ["{p} remains chief executive of {company}.", "{p} is staying on as head of {company}."],
            NEUTRAL: ["{p} will join {company2} as an adviser.", "{company} has named a new finance director."],
        },
    ),
    (
        [
            "{team} have signed the striker {p} from {team2}, the club confirmed.",
            "The striker {p} has joined {team} from {team2}, according to a club statement.",
            "{p}, a striker, has moved from {team2} to {team}, the club said.",
        ],
        {
            SUPPORT: ["{p} now plays for {team}.", "{p} has left {team2}."],
            CONTRADICT: ["{p} is staying at {team2}.", "{team} failed to sign {p}."],
            NEUTRAL: ["{p} scored on debut for {team}.", "{team2} have signed a new goalkeeper."],
        },
    ),
    (
        [
            "{company} is raising its prices by {n} percent from {day}, it said.",
            "Prices at {company} will go up by {n} percent from {day}, the firm announced.",
            "From {day}, customers of {company} will pay {n} percent more, the firm said.",
        ],
        {
            SUPPORT: ["{company} is putting its prices up.", "Customers of {company} will pay more from {day}."],
            CONTRADICT: ["{company} is cutting its prices from {day}.", "{company} will keep its prices unchanged."],
            NEUTRAL: ["{company} will open {n} new shops.", "Prices at {company2} are going up."],
        },
    ),
]


def _slots(rng: random.Random) -> dict[str, str]:
    company, company2 = rng.sample(COMPANIES, 2)
    city, city2 = rng.sample(CITIES, 2)
    team, team2 = rng.sample(TEAMS, 2)
    return {
        "company": company, "company2": company2, "city": city, "city2": city2, "p": _people(rng, 1)[0],
        "team": team, "team2": team2, "authority": rng.choice(AUTHORITIES), "festival": rng.choice(FESTIVALS),
        "structure": rng.choice(STRUCTURES), "day": rng.choice(WEEKDAYS), "n": str(rng.randrange(2, 10)),
    }  # fmt: skip


def paraphrase_template(event: Event) -> Template:
    """Scenarios of one event: two of its phrasings, each against one claim of every label (six pairs)."""
    phrasings, claims = event

    def make(rng: random.Random) -> list[Triple]:
        slots = _slots(rng)
        first, second = (_up(p.format(**slots)) for p in rng.sample(phrasings, 2))
        out = []
        for label in (SUPPORT, CONTRADICT, NEUTRAL):
            claim = _up(rng.choice(claims[label]).format(**slots))
            out += [(first, claim, label), (second, claim, label)]
        return out

    return make
