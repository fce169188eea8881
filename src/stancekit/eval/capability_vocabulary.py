"""The capability suite's vocabulary: its names, places, organisations, verb phrases and sentence frames.

Kept apart from the generators (:mod:`stancekit.eval.capabilities`) so the training augmentation
(:mod:`stancekit.data.capability_augment`) can be checked against every item here: it must use none of them.
"""

from __future__ import annotations

PEOPLE = [
    "Maria Lopez",
    "Ahmed Karimi",
    "Elena Petrova",
    "John Okafor",
    "Lin Wei",
    "Sofia Rossi",
    "David Cohen",
    "Amara Diallo",
    "Tomas Novak",
    "Priya Raman",
    "Lukas Weber",
    "Hana Sato",
]
TEAMS = [
    "Riverton United",
    "the Harbor Hawks",
    "FC Aldmark",
    "the Northside Lions",
    "Eastvale City",
    "the Mountain Rams",
]
ORGS = ["the central bank", "the city council", "the ministry", "the airline", "the university", "the company"]
CITIES = ["Lisbon", "Nairobi", "Oslo", "Manila", "Quito", "Tallinn", "Accra", "Hanoi"]
GROUPS = ["senators", "board members", "council members", "delegates", "judges", "shareholders"]
DOCUMENTS = ["the peace agreement", "the trade deal", "the climate pledge", "the budget", "the merger contract"]

# (premise verb phrase, contradicting antonym, supporting synonym) about an organisation's "thing".
ANTONYMS = [
    ("raised interest rates", "lowered interest rates", "increased interest rates"),
    ("approved the proposal", "rejected the proposal", "accepted the proposal"),
    ("opened a new office", "closed its only office", "launched a new office"),
    ("expanded the program", "scrapped the program", "enlarged the program"),
    ("hired more staff", "laid off staff", "took on more staff"),
    ("increased its budget", "cut its budget", "raised its budget"),
]

FILLER = [
    "Heavy rain is expected across the coastal region over the weekend, forecasters said.",
    "The local football club unveiled a new kit designed by students from the art college.",
    "A museum in the old town reopened after two years of renovation work on its roof.",
    "Farmers reported a strong harvest of apples and pears despite a dry start to the summer.",
    "The orchestra will perform a program of early symphonies at the cathedral next month.",
    "Engineers finished testing the new tram line, which links the station to the harbour.",
    "A bakery on the main square won a regional prize for its sourdough bread.",
    "The zoo welcomed two red panda cubs, the first born there in a decade.",
    "Volunteers planted three hundred trees along the river path on Saturday morning.",
    "The public library extended its opening hours during the exam period.",
]

# Page furniture with no content: what a scraper hands over when an article body failed to load.
CONTENT_FREE = [
    "",
    "Image courtesy of AFP",
    "Get the latest headlines delivered to your inbox.",
    "Tap here to continue reading.",
    "Sponsored content",
    "Terms of use | Privacy policy",
    "Send this article to a friend.",
    "Sorry, this content failed to load. Refresh the page to try again.",
]

# Reported speech: (frame, label of the embedded claim). A report that the claim was denied contradicts it, one
# that it was confirmed supports it, a refusal to comment leaves it open. ``{speaker}`` is an organisation or a
# person other than the one the claim is about.
REPORTED_FRAMES = [
    ("{speaker} denied reports that {claim}.", "contradict"),
    ("{speaker} said it was not true that {claim}.", "contradict"),
    ("{speaker} confirmed reports that {claim}.", "support"),
    ("{speaker} confirmed that {claim}.", "support"),
    ("{speaker} refused to comment on reports that {claim}.", "neutral"),
]
