"""Which sentences may count as evidence: not page furniture, and about the claim.

A pair model trained on NLI gives every premise a confident-looking label, including lines that say nothing
about anything: a user's true claim came back ``contradict`` on the photo credit "MIKHAIL METZEL/Getty
Images" at 0.89. Two filters, both applied before scoring (see :mod:`stancekit.document.aggregate`):

* :func:`is_boilerplate`: photo credits, bylines, datelines, headings and navigation labels, share/contact/
  subscribe lines, bare URLs and emails. The rules are deliberately narrow (whole-line patterns, word
  limits): a real sentence wrongly flagged is evidence lost, while a missed credit line is only as harmful
  as before. :func:`boilerplate_rule` names the rule that fired, for tests and debugging.
* :func:`claim_overlap`: how many of the claim's content words (sklearn's English stop words removed, a light
  plural/prefix match) a text contains. A unit with none is about something else; the model's label on it
  is noise. Matching is generous on purpose: a false match only lets a unit be scored, as before.
"""

from __future__ import annotations

import re
from functools import lru_cache

# ------------------------------------------------------------------------------------------- boilerplate
# Photo agencies and wire services as they appear in credits ("NAME/Getty Images", "AFP via Getty Images").
_AGENCY = (
    r"(?:the\s+)?(?:getty\s+images|getty|afp|reuters|ap|associated\s+press|epa(?:-efe)?|efe|shutterstock|alamy|"
    r"bloomberg(?:\s+news)?|pa(?:\s+media|\s+wire)?|anadolu(?:\s+agency)?|xinhua|sipa(?:\s+usa)?|tass|"
    r"ria\s+novosti|sputnik|zuma(?:\s+press)?|nurphoto|dpa|ansa|kyodo|yonhap|imago|rex|corbis|istock(?:photo)?|"
    r"pool|handout|file|courtesy)"
)
_PHOTO_WORD = r"(?:photo|image|picture|pic|photograph|illustration|graphic|video|footage|credit)s?"
_SOCIAL = r"(?:twitter|x|facebook|instagram|linkedin|tiktok|youtube|threads|bluesky|telegram|whatsapp|mastodon)"
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_URL = r"(?:https?://|www\.)\S+|[\w-]+(?:\.[\w-]+)+/\S*|@\w+"

# (name, pattern, most words): each pattern must match the whole line (re.fullmatch on the normalised,
# lower-cased text), and the line must have at most that many words, so a long real sentence that happens to
# start the same way is kept. Rules are listed most specific first; the first that fires names the line.
_RULES: list[tuple[str, re.Pattern[str], int]] = [
    # A line that is only a link, handle or address: nothing to support or contradict.
    ("url_or_email", re.compile(rf"[<(\[]?(?:{_URL}|(?:mailto:)?{_EMAIL})[>)\].,;]*"), 1),
    # "Photo: Reuters", "Image copyright Getty Images", "Photo by Jane Doe": a credit label, then who. A dash
    # only counts with spaces round it, so "Image-conscious leaders ..." is prose.
    (
        "photo_credit",
        re.compile(
            rf"\(?{_PHOTO_WORD}(?:\s+(?:credit|copyright|courtesy|source)s?)?"
            r"(?:\s*[:/©|]|\s+[-–—]\s|\s+by\b|\s+copyright\b|\s+courtesy\b).*"
        ),
        12,
    ),
    # "(AP Photo/Evan Vucci)", "AFP Photo / Kirill Kudryavtsev": the agency's own credit formula; the slash or
    # the end of the line tells it from "Reuters pictures showed the damage."
    ("photo_credit", re.compile(rf"\(?{_AGENCY}\s+(?:photo|images?|pictures?)(?:\s*[/:].*|\s*\)?)"), 12),
    # "MIKHAIL METZEL/Getty Images", "Kirill Kudryavtsev/AFP via Getty Images", "Getty Images", "Reuters":
    # at most a few words and a slash, then only agencies. "Getty Images agreed to buy ..." goes on after it.
    ("photo_credit", re.compile(rf"\(?(?:[^/.!?]{{1,60}}/\s*)?{_AGENCY}(?:\s*(?:/|via|for)\s*{_AGENCY})*\s*\)?\.?"), 8),
    # "© 2025 Reuters", "Copyright 2025 The Associated Press": the year or sign tells it from "Copyright law ...".
    ("copyright", re.compile(r"(?:©|\(c\)|copyright\s*(?:©|\(c\)|\d{4})).*"), 15),
    # Reuters' closing "Reporting by Jane Doe; Editing by John Roe": who wrote it, not what happened.
    ("credits", re.compile(r"(?:additional\s+)?(?:reporting|writing|editing|compiled)\s+by\b.*"), 25),
    # Links to other articles ("Read more: ...", "Related » ..."): the linked headline is another story. No
    # dash here: "More - and worse - was to come." is prose.
    (
        "link_label",
        re.compile(
            r"(?:read|see|watch|listen|also\s+read|more|related|recommended|explore)"
            r"(?:\s+(?:more|also|next|this))?\s*[:|»›>].*"
        ),
        25,
    ),
    # Page actions addressed to the reader, not reporting. Each needs its object ("Share this ...", "Follow us
    # on ...", "... newsletter"), so "Share prices fell", "Follow-up talks ..." and "Like us, they ..." are prose.
    ("share", re.compile(r"share\s+(?:this|on|via|the\s+(?:article|story|page|link))\b.*"), 12),
    ("follow", re.compile(r"(?:follow|like|find)\s+(?:us|me|@\w+)(?:\s+(?:on|at)\s+.*)?"), 12),
    ("follow", re.compile(rf"follow\s+(?:.{{1,40}}?\s+)?on\s+{_SOCIAL}\b.*"), 12),
    (
        "subscribe",
        re.compile(
            r"(?:sign\s+up|subscribe|register)\b.{0,80}\b(?:newsletters?|alerts?|updates|e-?mails?|inbox"
            r"|briefing|digest|subscription|free|here|now|today)\b.*"
        ),
        20,
    ),
    ("click", re.compile(r"(?:click|tap)\s+(?:here|to|on|for|the|below)\b.*"), 20),
    ("contact", re.compile(rf"(?:contact|e-?mail|write\s+to|reach|send|tips?)\b.*{_EMAIL}.*"), 20),
    # "This story has been updated ...", "This article was originally published ...": notes on the page.
    (
        "editorial_note",
        re.compile(r"this\s+(?:article|story|report|piece)\s+(?:was|has\s+been|is|first|originally)\b.*"),
        25,
    ),
]

# Whole lines that are headings or navigation labels ("What to know" has a verb, so a title-case rule alone
# would miss it; these are common enough on news pages to list). Compared lower-cased, end punctuation dropped.
_HEADINGS = frozenset(
    h.strip()
    for h in """
    what to know|what we know|what you need to know|what we know so far|what happened|what's next
    |what's happening|key points|key takeaways|the big picture|the bottom line|why it matters|go deeper
    |the latest|latest|latest news|breaking news|breaking|live updates|live|related|related articles
    |related stories|related content|related topics|related coverage|read more|read next|read also|also read
    |see also|more|more stories|more on this story|most read|most popular|most viewed|top stories|trending
    |trending now|recommended|recommended stories|you may also like|you might also like|advertisement
    |advertisements|ad|sponsored|sponsored content|paid content|story continues below advertisement
    |story continues below|continue reading|skip advertisement|scroll to continue|watch|watch now|watch video
    |listen|listen to this article|video|photos|gallery|share|share this|share this article|share this story
    |comments|show comments|all rights reserved|editor's note|topics|tags|in this article|in brief|summary
    |overview|background|analysis|opinion|explainer|newsletter|subscribe|sign up|log in|sign in|menu|home
    |back to top|print|email|copy link|link copied|join the conversation|advertising|skip to content
    |skip to main content""".split("|")
)

# Datelines: every word is a date/time word or number ("Updated 3:45 PM EST, Tue March 4, 2025").
_MONTHS = "january february march april may june july august september october november december".split()
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_DATE_WORDS = frozenset(
    _MONTHS
    + [m[:3] for m in _MONTHS]
    + ["sept"]
    + _WEEKDAYS
    + [d[:3] for d in _WEEKDAYS]
    + ["tues", "thur", "thurs"]
    + "am pm a.m p.m a.m. p.m. est edt cst cdt mst mdt pst pdt et ct pt gmt utc bst cet cest eet eest msk ist jst"
    " aest aedt updated published posted modified last first on at ago today yesterday read | · • - – —".split()
    + "second seconds sec secs minute minutes min mins hour hours hr hrs day days week weeks month months".split()
)
_NUMBER = re.compile(
    r"\d{1,4}(?:st|nd|rd|th)?|\d{1,2}[:.]\d{2}(?::\d{2})?(?:am|pm)?|\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}"
    r"|\d{4}-\d{2}-\d{2}t[\d:.]+z?"
)

# Title-case headings ("Ukraine War", "Putin's Red Line"): function words that may stay lower-case in a title;
# words that mark a verb (so "Kremlin Rejects Plan", "Deal Signed" are kept); and words that carry a stance
# even without a verb ("No Deal", "Never Again"), which keep a line however it is cased.
_TITLE_FUNCTION_WORDS = frozenset("a an and the of in on for to at with from by or vs via".split())
_VERB_WORDS = frozenset(
    "is are was were be been being has have had will would can could should may might must do does did says said "
    "not won lost fell rose broke made took gave met held led left saw told went came sold hit cut".split()
)
_STANCE_WORDS = frozenset("no not never nor without against yes".split())
_BYLINE_ROLE_WORDS = frozenset(
    "and & of the for in at with staff writer writers reporter reporters correspondent correspondents editor "
    "editors contributor senior chief political foreign news desk".split()
)
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def _normalise(text: str) -> str:
    return " ".join(text.translate(_QUOTES).split())


def _strip_edges(word: str) -> str:
    return word.strip(",.;:!?()[]\"'")


def _is_dateline(words: list[str]) -> bool:
    """Only date/time words and numbers, and at least one number: a timestamp states no fact."""
    tokens = [_strip_edges(w) for w in words]
    tokens = [t for t in tokens if t]
    if not tokens or len(tokens) > 15:
        return False
    numbers = [bool(_NUMBER.fullmatch(t)) for t in tokens]
    return any(numbers) and all(n or t in _DATE_WORDS for t, n in zip(tokens, numbers))


def _is_byline(original_words: list[str]) -> bool:
    """A byline ("By Jane Doe, Reuters"): "By", then only capitalised names and role words.

    "By Monday, prices had risen." has lower-case words that are no role, so it is prose.
    """
    if len(original_words) < 2 or len(original_words) > 12 or original_words[0].lower() != "by":
        return False
    rest = [_strip_edges(w) for w in original_words[1:]]
    return all(not w or w[0].isupper() or w.lower() in _BYLINE_ROLE_WORDS for w in rest) and rest[0][:1].isupper()


def _is_title_heading(text: str, original_words: list[str]) -> bool:
    """A short title-case line with no end punctuation and nothing that looks like a verb: a section heading.

    At most four words, every word capitalised (or a title's function word), no ``-ed``/``-ing`` word (but "Red"), no
    auxiliary or common irregular past ("said", "fell"), no ``-s`` word other than a possessive, and no
    negation: "Kremlin Rejects Plan" or "No Deal" is a headline that can carry the stance, "Ukraine War" is not.
    Without a part-of-speech tagger this is a guess, so it is kept short and errs towards prose.
    """
    if len(original_words) > 4 or text[-1] in ".!?\"')":
        return False
    capitalised = 0
    for raw in original_words:
        word = _strip_edges(raw)
        if not word:
            continue
        lower = word.lower().removesuffix("'s")
        if not word[0].isupper():
            if lower in _TITLE_FUNCTION_WORDS:
                continue
            return False
        capitalised += 1
        if (
            lower in _VERB_WORDS
            or lower in _STANCE_WORDS
            or (len(lower) > 3 and lower.endswith(("ed", "ing")))
            or (lower.endswith("s") and len(lower) > 2)
        ):
            return False
    return capitalised > 0


@lru_cache(maxsize=65536)
def boilerplate_rule(text: str) -> str | None:
    """The name of the boilerplate rule ``text`` (one sentence or line) matches, or ``None`` for real prose.

    Cached: FNC-1 repeats each body with about 28 headlines.
    """
    text = _normalise(text)
    if not text:
        return "empty"
    # No letter at all ("* * *", "42", "—"): separators and page numbers; no claim can rest on them.
    if not any(c.isalpha() for c in text):
        return "no_words"
    lower = text.lower()
    words = text.split()
    for name, pattern, most_words in _RULES:
        if len(words) <= most_words and pattern.fullmatch(lower):
            return name
    if lower.rstrip(" .:;!|»›>–—-…") in _HEADINGS:
        return "heading"
    if _is_dateline(lower.split()):
        return "dateline"
    if _is_byline(words):
        return "byline"
    if _is_title_heading(text, words):
        return "title_heading"
    return None


def is_boilerplate(text: str) -> bool:
    """True for page furniture that can never be evidence: credits, bylines, datelines, headings, share lines.

    ``text`` is one sentence as :func:`stancekit.data.sentences.split_sentences` gives it (pySBD also splits
    at line breaks, so a credit on its own line is its own sentence). See :func:`boilerplate_rule`.
    """
    return boilerplate_rule(text) is not None


# ------------------------------------------------------------------------------------------- relatedness
# sklearn's TfidfVectorizer token pattern: the gate then lets through every unit that shares a TF-IDF term
# with the claim, so it agrees with the FNC-1 view's document-level relatedness (stancekit.document.fnc).
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    # Imported lazily: sklearn's text module is slow to import and most of stancekit never needs it.
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def _stem(word: str) -> str:
    # Plural -s only ("wars" -> "war"); other endings are left to the prefix match in _match.
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


# Caches sized for a chunk of documents (a FNC-1 body and its ~28 headlines, a sentence and the windows holding
# it), at tens of MB; they only save recomputation.
@lru_cache(maxsize=16384)
def content_words(text: str) -> frozenset[str]:
    """Lower-cased words of ``text`` that are not English stop words, plural ``-s`` removed."""
    stop = _stop_words()
    return frozenset(_stem(w) for w in _TOKEN.findall(text.lower()) if w not in stop)


def _match(a: str, b: str) -> bool:
    """Same word up to its ending, as a light stemmer would say.

    Words of three letters or fewer must be equal ("war" is not "ward"); a four-letter word must begin the
    other ("rule"/"ruled", "plan"/"planned"); longer words must share all but the shorter's last three letters,
    and at least five ("contradicted"/"contradict", "peacekeepers"/"peacekeeping", "accept"/"accepted",
    "Europe"/"European", "peace"/"peacekeepers"), so "present"/"president" stay apart. Still generous
    ("conservation"/"conservative" match): a false match only lets a unit be scored, as without the gate.
    """
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) < 4:
        return False
    k = len(short) if len(short) == 4 else max(5, len(short) - 3)
    return long_[:k] == short[:k]


@lru_cache(maxsize=65536)
def matched_claim_words(claim: str, text: str) -> frozenset[str]:
    """The claim's content words that ``text`` contains (see :func:`content_words` and ``_match``)."""
    words = content_words(text)
    return frozenset(c for c in content_words(claim) if c in words or any(_match(c, w) for w in words))


def claim_overlap(claim: str, text: str) -> int:
    """How many of the claim's content words ``text`` contains."""
    return len(matched_claim_words(claim, text))


def required_overlap(claim: str, min_overlap: int) -> int:
    """``min_overlap``, but never more than the claim has content words: a claim made only of stop words
    ("It is so.") cannot be matched, and would otherwise make every document neutral."""
    return min(min_overlap, len(content_words(claim)))
