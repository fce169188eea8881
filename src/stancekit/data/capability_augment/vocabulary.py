"""The words the capability pairs are made of (people, teams, cities, companies, authorities...), the label
names, and the small helpers every family uses. None is shared with :mod:`stancekit.eval.capabilities`."""

from __future__ import annotations

import random
from collections.abc import Callable

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
