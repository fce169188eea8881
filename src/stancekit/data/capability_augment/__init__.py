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
  (``support`` / ``contradict``), so the model learns to read past it rather than to fear it. The pairs
  without evidence are tagged (``capability_aug:empty_evidence+no_evidence``): with
  ``train.no_evidence_target=uniform`` they learn equal probabilities instead of ``neutral``.
* ``reported_speech``: a report that X was denied contradicts X, one that X was confirmed supports X, a
  refusal to comment leaves X open; "A claimed X, but B denied it" contradicts "B accepts X" and, like any
  report of a denial, X itself (what A does next stays open).
* ``quantifiers`` (0.60): "all n", "not one of the n", "exactly / at least / no more than k of the n" against
  "every", "no", "most", "fewer than half", "not all", "at least one did not"; the label is whether the claim
  holds for every count the premise allows (``support``), for none (``contradict``) or for some (``neutral``).
* ``paraphrase`` (0.30 after the families above): one event in two phrasings (attribution first or last,
  active or passive, a verb or its synonym) meets the same claims with the same labels.

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

from .families import EVIDENCE_FAMILIES, FAMILIES, FAMILY_LABELS, TEMPLATES, capability_pairs
from .numbers import (
    COUNT_TEMPLATES,
    QUANTIFIERS,
    TREND_CLAIMS,
    TREND_TEMPLATES,
    TREND_UNKNOWNS,
    quantity_holds,
    trend_holds,
)
from .paraphrase import PARAPHRASE_EVENTS
from .quantifiers import ACTIONS, QUANTIFIER_CLAIMS, QUANTIFIER_GROUPS, QUANTIFIER_PREMISES, quantifier_label
from .speech import (
    CONFIRMATIONS,
    CORROBORATED,
    DENIALS,
    DISPUTED,
    NO_VERDICT,
    REPORT_LABELS,
    REPORTED_CLAIMS,
    SYMMETRY_GROUPS,
)
from .speech import _disputed_report as _disputed_report  # the tests call it directly
from .vocabulary import (
    ACHIEVEMENTS,
    AUTHORITIES,
    AWARDS,
    BOILERPLATE,
    CITIES,
    CLUBS,
    COMPANIES,
    CONTRADICT,
    FESTIVALS,
    FIRST_NAMES,
    ITEMS,
    LAST_NAMES,
    NEUTRAL,
    RACES,
    ROUNDS,
    SOURCE_PREFIX,
    STRUCTURES,
    SUPPORT,
    TEAMS,
    WEEKDAYS,
    WIRES,
    Template,
    Triple,
)

__all__ = [
    "CONTRADICT",
    "NEUTRAL",
    "SUPPORT",
    "ACHIEVEMENTS",
    "ACTIONS",
    "AUTHORITIES",
    "AWARDS",
    "BOILERPLATE",
    "CITIES",
    "CLUBS",
    "COMPANIES",
    "CONFIRMATIONS",
    "CORROBORATED",
    "COUNT_TEMPLATES",
    "DENIALS",
    "DISPUTED",
    "EVIDENCE_FAMILIES",
    "FAMILIES",
    "FAMILY_LABELS",
    "FESTIVALS",
    "FIRST_NAMES",
    "ITEMS",
    "LAST_NAMES",
    "NO_VERDICT",
    "PARAPHRASE_EVENTS",
    "QUANTIFIER_CLAIMS",
    "QUANTIFIER_GROUPS",
    "QUANTIFIER_PREMISES",
    "QUANTIFIERS",
    "RACES",
    "REPORTED_CLAIMS",
    "REPORT_LABELS",
    "ROUNDS",
    "SOURCE_PREFIX",
    "STRUCTURES",
    "SYMMETRY_GROUPS",
    "TEAMS",
    "TEMPLATES",
    "TREND_CLAIMS",
    "TREND_TEMPLATES",
    "TREND_UNKNOWNS",
    "Template",
    "Triple",
    "WEEKDAYS",
    "WIRES",
    "capability_pairs",
    "quantifier_label",
    "quantity_holds",
    "trend_holds",
]
