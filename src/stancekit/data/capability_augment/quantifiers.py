"""The ``quantifiers`` family: what "every", "not one", "most", "at least k of the n" say about a group of known
size, and what they leave open.

A premise tells how many of a group's ``n`` members did something: a set of possible counts (all of them,
none, exactly ``k``, at least ``k``, at most ``k``). A claim is a predicate on that count ("most of them",
"at least one did not"). The label follows from the two: ``support`` if the claim holds for every count the
premise allows, ``contradict`` if for none, ``neutral`` otherwise. A claim about something else the group
did is ``neutral`` whatever the count.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .vocabulary import (
    CITIES,
    CLUBS,
    COMPANIES,
    CONTRADICT,
    FESTIVALS,
    NEUTRAL,
    RACES,
    SUPPORT,
    TEAMS,
    Template,
    Triple,
    _up,
)

# Groups of a stated size: (plural, "one ..." singular). Slots: {club}, {company}, {team}, {city}, {festival},
# {race}.
QUANTIFIER_GROUPS = [
    ("members of the {club}", "member of the {club}"),
    ("staff at {company}", "staff member at {company}"),
    ("players at {team}", "player at {team}"),
    ("volunteers at the {city} {festival}", "volunteer at the {city} {festival}"),
    ("runners in the {city} {race}", "runner in the {city} {race}"),
]
# What a member did, and the same thing not done (the exact complement, so "at least one did not" is "not all").
ACTIONS = [
    ("joined the one-day strike", "did not join the one-day strike"),
    ("passed the first-aid course", "did not pass the first-aid course"),
    ("turned up for the annual meeting", "missed the annual meeting"),
    ("backed the new rulebook", "did not back the new rulebook"),
    ("paid the yearly fee", "did not pay the yearly fee"),
    ("got the flu jab", "did not get the flu jab"),
    ("wore the orange armband", "did not wear the orange armband"),
]

# (premise template, the counts it allows for k of n). Slots: {n}, {k}, {group}, {did}.
QUANTIFIER_PREMISES: list[tuple[str, Callable[[int, int], range]]] = [
    ("All {n} {group} {did}.", lambda k, n: range(n, n + 1)),
    ("Every one of the {n} {group} {did}.", lambda k, n: range(n, n + 1)),
    ("Not one of the {n} {group} {did}.", lambda k, n: range(0, 1)),
    ("Not a single one of the {n} {group} {did}.", lambda k, n: range(0, 1)),
    ("Exactly {k} of the {n} {group} {did}.", lambda k, n: range(k, k + 1)),
    ("Of the {n} {group}, only {k} {did}.", lambda k, n: range(k, k + 1)),
    ("At least {k} of the {n} {group} {did}.", lambda k, n: range(k, n + 1)),
    ("No more than {k} of the {n} {group} {did}.", lambda k, n: range(0, k + 1)),
]
# (claim template, does it hold for a count c of n). Slots: {group}, {one}, {did}, {did_not}.
QUANTIFIER_CLAIMS: list[tuple[str, Callable[[int, int], bool]]] = [
    ("Every {one} {did}.", lambda c, n: c == n),
    ("All of the {group} {did}.", lambda c, n: c == n),
    ("At least one {one} {did}.", lambda c, n: c >= 1),
    ("No {one} {did}.", lambda c, n: c == 0),
    ("Most of the {group} {did}.", lambda c, n: 2 * c > n),
    ("Fewer than half of the {group} {did}.", lambda c, n: 2 * c < n),
    ("At least one {one} {did_not}.", lambda c, n: c < n),
    ("Not all of the {group} {did}.", lambda c, n: c < n),
]


def quantifier_label(counts: range, holds: Callable[[int, int], bool], n: int) -> str:
    """``support`` if the claim holds for every count the premise allows, ``contradict`` if for none."""
    verdicts = {holds(c, n) for c in counts}
    if verdicts == {True}:
        return SUPPORT
    return CONTRADICT if verdicts == {False} else NEUTRAL


def _slots(rng: random.Random) -> dict[str, str]:
    return {
        "club": rng.choice(CLUBS), "company": rng.choice(COMPANIES), "team": rng.choice(TEAMS),
        "city": rng.choice(CITIES), "festival": rng.choice(FESTIVALS), "race": rng.choice(RACES),
    }  # fmt: skip


def quantifier_template(plural: str, one: str) -> Template:
    """Scenarios about one kind of group (:data:`QUANTIFIER_GROUPS`): a premise on how many of its ``n`` did
    something, and every claim about it, on the same action (labelled by the counts) or another one (``neutral``)."""

    def make(rng: random.Random) -> list[Triple]:
        n = rng.randrange(6, 60)
        # Now and then k is exactly half the group, where "most" and "fewer than half" are both false.
        k = n // 2 if n % 2 == 0 and rng.random() < 0.25 else rng.randrange(1, n)
        slots = _slots(rng)
        group, single = plural.format(**slots), one.format(**slots)
        (did, did_not), (other, _) = rng.sample(ACTIONS, 2)
        template, allowed = rng.choice(QUANTIFIER_PREMISES)
        premise = _up(template.format(n=n, k=k, group=group, did=did))
        counts = allowed(k, n)
        out = [
            (
                premise,
                _up(claim.format(group=group, one=single, did=did, did_not=did_not)),
                quantifier_label(counts, holds, n),
            )
            for claim, holds in QUANTIFIER_CLAIMS
        ]
        # Claims on another action (the first four claims name no negated action): nothing is known of it.
        out += [
            (premise, _up(claim.format(group=group, one=single, did=other)), NEUTRAL)
            for claim, _ in QUANTIFIER_CLAIMS[:4]
        ]
        return out

    return make
