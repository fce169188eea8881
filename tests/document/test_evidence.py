"""Only real, claim-related evidence counts: the boilerplate rules and the claim-overlap gate."""

from __future__ import annotations

import numpy as np
import pytest

from stancekit.data.sentences import split_sentences
from stancekit.document import boilerplate_rule, claim_overlap, is_boilerplate, predict_document, predict_documents
from stancekit.document.aggregate import document_units, resolve_options
from stancekit.document.evidence import content_words, required_overlap
from stancekit.labels import LABELS
from tests.document.test_aggregate import NEUTRAL_P, table_scorer
from tests.helpers import compose_config

# The article a user ran (paraphrased): its top "contradict" evidence for a true claim was the photo credit.
CREDIT = "MIKHAIL METZEL/Getty Images"
# The antecedent, and the decisive sentence, which refers back to it and shares no content word with CLAIM.
MACRON = "Macron proposed sending European peacekeepers to Ukraine after a ceasefire."
LAVROV = "Russia's foreign minister Sergei Lavrov ruled out such a proposal on Monday."
ARTICLE = (
    f"What to know\n{MACRON} {LAVROV} "
    f"{CREDIT}\nThe Kremlin had nothing to add to Lavrov's comments, a spokesman said. Share this article\n"
    "European leaders met in Paris to discuss security guarantees for Ukraine."
)
CLAIM = "Putin would accept European peacekeepers in Ukraine."
BOILERPLATE_OF_ARTICLE = ("What to know", CREDIT, "Share this article")

BOILERPLATE = [
    CREDIT,
    "Photo: Reuters",
    "(AP Photo/Evan Vucci)",
    "Image copyright Getty Images",
    "Getty Images",
    "Kirill Kudryavtsev/AFP via Getty Images",
    "Photo by Jane Doe",
    "Photograph: Jane Doe/Reuters",
    "By Jane Doe, Reuters",
    "By Jane Doe and John Roe, CNN",
    "Updated 3:45 PM EST, Tue March 4, 2025",
    "Published 10:02 GMT, 4 March 2025",
    "Last updated 2 hours ago",
    "5 min read",
    "What to know",
    "Related",
    "Read more",
    "Read more »",
    "Advertisement",
    "Key points:",
    "Story continues below advertisement",
    "Ukraine War",
    "Putin's Red Line",
    "Share this article",
    "Share on Facebook",
    "Contact the author at x@y.com",
    "Follow us on Twitter",
    "Follow Jane Doe on X",
    "Sign up for our newsletter",
    "Click here to read the full report",
    "https://example.com/news/123",
    "www.example.com",
    "jane@example.com",
    "pic.twitter.com/abc123",
    "© 2025 Reuters",
    "Copyright 2025 The Associated Press. All rights reserved.",
    "Reporting by Jane Doe; Editing by John Roe",
    "Read more: Kremlin says no to peacekeepers",
    "This story has been updated with comment from the Kremlin.",
    "* * *",
]
PROSE = [
    "Lavrov ruled out such a proposal.",
    "Prices rose 3%.",
    '"We will not accept it," Lavrov said.',
    "\u201cNever,\u201d he said.",
    "By Monday, prices had risen 3%.",
    "Photos of the meeting showed Lavrov smiling.",
    "Image-conscious leaders met in Paris.",
    "Reuters pictures showed the damage.",
    "Reuters reported the talks had stalled.",
    "Getty Images agreed to buy Shutterstock.",
    "Follow-up talks are planned for March.",
    "Follow the money.",
    "Like us, they rejected the plan.",
    "Share prices fell 3% on Monday.",
    "Subscribers to the service rose to 2 million.",
    "Contact between the two sides resumed.",
    "Tap water was contaminated.",
    "Updated guidance was published on Monday.",
    "March 4, 2025 was a Tuesday.",
    "More than 100 people died.",
    "More - and worse - was to come.",
    "Copyright law was changed in 2019.",
    "Research by Oxford shows vaccines work.",
    "Russia agrees.",
    "He declined.",
    # Headlines without end punctuation that carry a stance: a verb or a negation keeps them.
    "Kremlin Rejects Plan",
    "Deal Signed",
    "No Deal",
    "Lavrov Rules Out European Peacekeepers",
    "The Kremlin had nothing to add to Lavrov's comments, a spokesman said.",
    "European leaders met in Paris to discuss security guarantees for Ukraine.",
]


def recording_scorer():
    """A stub that calls everything neutral and records the premises it was given."""
    seen: list[str] = []

    def scorer(pairs):
        seen.extend(p for p, _ in pairs)
        return np.tile(NEUTRAL_P, (len(pairs), 1))

    return scorer, seen


@pytest.mark.parametrize("line", BOILERPLATE)
def test_boilerplate_lines_are_recognised(line):
    assert is_boilerplate(line), line
    assert boilerplate_rule(line) is not None


@pytest.mark.parametrize("line", PROSE)
def test_ordinary_news_sentences_are_not_boilerplate(line):
    assert not is_boilerplate(line), (line, boilerplate_rule(line))


def test_the_example_article_loses_its_credit_line_and_headings():
    sentences = [s.text for s in split_sentences(ARTICLE)]
    assert all(b in sentences for b in BOILERPLATE_OF_ARTICLE), "pySBD splits at the line breaks"
    for overlap in (0, 1):
        scorer, seen = recording_scorer()
        result = predict_document(scorer, CLAIM, ARTICLE, min_claim_overlap=overlap)
        assert result.n_sentences == 7 and result.n_units == len(seen)
        for text in seen:
            assert not any(b in text for b in BOILERPLATE_OF_ARTICLE), text
            assert text in ARTICLE
    # Gate off: the four prose sentences, and the one window the boilerplate leaves (Macron's and Lavrov's).
    units = document_units(ARTICLE, [1, 2])
    prose = [s for s in sentences if s not in BOILERPLATE_OF_ARTICLE]
    assert [u.text for u, _, _ in units] == [*prose, f"{MACRON} {LAVROV}"]
    assert all(ARTICLE[u.start : u.end] == u.text for u, _, _ in units)
    # Gate on: the sentences naming Europe, peacekeepers or Ukraine, and Lavrov's, which refers back to the
    # sentence before it. The Kremlin sentence follows the credit line, so it has no context and shares no word.
    european = "European leaders met in Paris to discuss security guarantees for Ukraine."
    assert seen == [MACRON, LAVROV, european, f"{MACRON} {LAVROV}"]
    # So Lavrov's sentence, the one that decides, is scored on its own and is the evidence, with its offsets.
    result = predict_document(table_scorer({"Lavrov ruled out": [0.03, 0.94, 0.03]}), CLAIM, ARTICLE)
    assert result.label == "contradict"
    start = ARTICLE.index(LAVROV)
    assert [(e.text, e.start, e.end) for e in result.evidence] == [(LAVROV, start, start + len(LAVROV))]


def test_a_confident_photo_credit_is_no_longer_evidence():
    scorer = table_scorer({"Getty": [0.05, 0.89, 0.06]})  # what the real model said about the credit line
    result = predict_document(scorer, CLAIM, ARTICLE)
    assert result.label == "neutral" and result.evidence == []
    assert result.probabilities["contradict"] < result.probabilities["neutral"]
    # As before the filter: with both filters off the credit line decides the document.
    before = predict_document(scorer, CLAIM, ARTICLE, skip_boilerplate=False, min_claim_overlap=0)
    assert before.label == "contradict"
    assert [(e.text, e.score) for e in before.evidence] == [(CREDIT, pytest.approx(0.89))]
    # The gate alone drops the credit as a sentence (it shares no word with the claim, nor does Lavrov's before
    # it) ... but not the window that begins with Lavrov's sentence, which is kept for its context (Macron's):
    # with skip_boilerplate off the credit rides in that window, so only the boilerplate rule stops it.
    assert predict_document(scorer, CLAIM, ARTICLE, skip_boilerplate=False, window_sizes=[1]).label == "neutral"
    riding = predict_document(scorer, CLAIM, ARTICLE, skip_boilerplate=False)
    assert [e.text for e in riding.evidence] == [f"{LAVROV} {CREDIT}"]
    # ... and not a credit that names the claim's subject: that one only the boilerplate rule stops.
    document = "Photo: Kremlin press service\nThe Kremlin said talks would continue."
    credit = table_scorer({"Photo": [0.05, 0.89, 0.06]})
    claim = "The Kremlin ended the talks."
    assert predict_document(credit, claim, document, skip_boilerplate=False).evidence[0].text.startswith("Photo")
    assert predict_document(credit, claim, document).label == "neutral"


def test_windows_do_not_cross_boilerplate_and_offsets_stay_exact():
    document = f"First peace sentence. Second peace sentence.\n{CREDIT}\nThird peace sentence. Fourth peace sentence."
    spans = [(first, last) for _, first, last in document_units(document, [1, 2])]
    assert spans == [(0, 0), (1, 1), (3, 3), (4, 4), (0, 1), (3, 4)]
    unfiltered = [(first, last) for _, first, last in document_units(document, [1, 2], skip_boilerplate=False)]
    assert (1, 2) in unfiltered and (2, 3) in unfiltered and len(unfiltered) == 5 + 4
    for units in (document_units(document, [1, 2, 3]), document_units(document, [1, 2, 3], skip_boilerplate=False)):
        assert all(document[u.start : u.end] == u.text for u, _, _ in units)

    # Every evidence item after filtering: exact offsets, no boilerplate inside.
    result = predict_document(
        table_scorer({"peace": [0.05, 0.9, 0.05]}), "Peace holds.", document, window_sizes=[1, 2, 3], evidence_k=10
    )
    assert result.label == "contradict" and len(result.evidence) == 4
    for e in result.evidence:
        assert document[e.start : e.end] == e.text and "Getty" not in e.text


def test_the_claim_overlap_gate():
    claim = "Putin would accept European peacekeepers in Ukraine."
    document = (
        "European leaders proposed sending peacekeepers to Ukraine. Lavrov ruled out such a proposal. "
        "Separately, the central bank raised interest rates."
    )
    # A confident unit about something else, and the real evidence, which only refers back to the proposal.
    scorer = table_scorer({"ruled out": [0.03, 0.94, 0.03], "interest rates": [0.95, 0.02, 0.03]})
    ungated = predict_document(scorer, claim, document, min_claim_overlap=0)
    assert ungated.label == "support", "without the gate the unrelated sentence decides"
    result = predict_document(scorer, claim, document)
    assert result.label == "contradict" and result.supporting == []
    # The referring sentence shares no word with the claim, but the sentence before it does: it is scored alone,
    # and on a tie with the window holding both, the shorter unit is the evidence.
    assert [e.text for e in result.evidence] == ["Lavrov ruled out such a proposal."]
    e = result.evidence[0]
    assert document[e.start : e.end] == e.text and e.score == pytest.approx(0.94)
    # The first sentence, Lavrov's, the window of both, and the window that begins with Lavrov's (kept for the
    # same context). The bank sentence alone is two sentences after the last claim word: dropped.
    assert result.n_units == 4
    # A stricter gate, on the unit's own words and on the context sentence's: the first sentence matches three,
    # so Lavrov's still passes; the bank sentence and a one-word match ("Ukraine's weather") both go.
    assert claim_overlap(claim, "Ukraine's weather was mild.") == 1
    strict = predict_document(scorer, claim, document + " Ukraine's weather was mild.", min_claim_overlap=2)
    assert strict.label == "contradict" and strict.n_units == 4


def test_a_sentence_that_refers_back_to_the_claim_is_scored_and_shown_alone():
    # The decisive sentence of a news story names none of the claim's words: "such a proposal" is the previous
    # sentence's. Only the single sentence is contradicting, so it can only win if it is scored on its own.
    document = f"Talks continued in Paris on Sunday. {MACRON} {LAVROV} Markets in Moscow were calm."
    assert claim_overlap(CLAIM, LAVROV) == 0

    seen: list[str] = []

    def scorer(pairs):
        seen.extend(p for p, _ in pairs)
        return np.array([[0.05, 0.9, 0.05] if p == LAVROV else NEUTRAL_P for p, _ in pairs], dtype=float)

    for window_sizes in ([1], [1, 2]):
        result = predict_document(scorer, CLAIM, document, window_sizes=window_sizes)
        assert result.label == "contradict", window_sizes
        start = document.index(LAVROV)
        top = result.contradicting[0]
        assert (top.text, top.start, top.end) == (LAVROV, start, start + len(LAVROV))
        assert document[top.start : top.end] == top.text and top.score == pytest.approx(0.9)
        assert result.evidence == [top]
    # The sentence before the antecedent, and the one two after it, share nothing and have no such context.
    seen.clear()
    predict_document(scorer, CLAIM, document, window_sizes=[1])
    assert seen == [MACRON, LAVROV]


def test_context_reaches_one_sentence_back_and_not_across_boilerplate():
    claim = "Putin would accept European peacekeepers in Ukraine."
    named = "European leaders proposed sending peacekeepers to Ukraine."
    refers = "Lavrov ruled out such a proposal."
    later = "The rouble fell sharply."
    document = f"{named} {refers} {later} Traders shrugged."
    scorer, seen = recording_scorer()
    predict_document(scorer, claim, document, window_sizes=[1])
    # "The rouble fell" is two sentences after the last claim word, "Traders shrugged." three: both dropped.
    assert seen == [named, refers]
    scorer, seen = recording_scorer()
    predict_document(scorer, claim, document)
    # With windows: the one beginning with the referring sentence is kept for its context and holds the next
    # sentence; no unit begins later than that, and "Traders shrugged." is in none.
    assert seen == [named, refers, f"{named} {refers}", f"{refers} {later}"]
    # Context is the previous sentence of the same run: after a credit line a referring sentence has none.
    scorer, seen = recording_scorer()
    predict_document(scorer, claim, f"{named}\n{CREDIT}\n{refers}")
    assert seen == [named]
    scorer, seen = recording_scorer()
    predict_document(scorer, claim, f"{named}\n{CREDIT}\n{refers}", skip_boilerplate=False, window_sizes=[1])
    # With the filter off the credit is an ordinary sentence: it has the context (stopping it is the boilerplate
    # rule's job), and it is the referring sentence's context, which names nothing.
    assert seen == [named, CREDIT]


def test_content_words_and_light_stemming():
    assert content_words("The peacekeepers would not be in Ukraine's capital.") == {"peacekeeper", "ukraine", "capital"}
    for a, b in [
        ("contradicted", "contradicts"),
        ("peacekeepers", "peacekeeping"),
        ("accept", "accepted"),
        ("Europe", "European"),
        ("wars", "war"),
        ("rule", "ruled"),
        ("peace", "peacekeepers"),
    ]:
        assert claim_overlap(a, b) == 1 and claim_overlap(b, a) == 1, (a, b)
    for a, b in [("war", "ward"), ("present", "president"), ("plan", "plot"), ("the", "the"), ("Putin", "Lavrov")]:
        assert claim_overlap(a, b) == 0, (a, b)
    # A claim made only of stop words cannot be matched: the gate steps aside instead of emptying every document.
    assert (
        required_overlap("It is so.", 1) == 0 and required_overlap(CLAIM, 3) == 3 and required_overlap("Putin.", 3) == 1
    )
    result = predict_document(table_scorer({"ruled": [0.1, 0.8, 0.1]}), "It is so.", "Lavrov ruled it out.")
    assert result.label == "contradict" and result.n_units == 1


@pytest.mark.parametrize("aggregation", ["max_evidence", "top_k_mean", "mean"])
def test_a_document_of_boilerplate_only_is_neutral(aggregation):
    document = (
        f"What to know\n{CREDIT}\nBy Jane Doe, Reuters\nUpdated 3:45 PM EST, Tue March 4, 2025\nShare this article"
    )
    calls = []

    def scorer(pairs):
        calls.append(len(pairs))
        return np.tile([0.05, 0.9, 0.05], (len(pairs), 1))

    result = predict_document(scorer, CLAIM, document, aggregation=aggregation, min_claim_overlap=0)
    assert result.label == "neutral" and result.evidence == [] and result.n_units == 0
    assert result.n_sentences == 5 and calls == []
    assert [result.probabilities[lab] for lab in LABELS] == [0.0, 0.0, 1.0]
    # Alongside a real document in the same chunk, and with the filter off as before.
    both = predict_documents(scorer, [(CLAIM, document), (CLAIM, "European peacekeepers were refused.")])
    assert [r.label for r in both] == ["neutral", "contradict"] and calls == [1]
    assert predict_document(scorer, CLAIM, document, skip_boilerplate=False, min_claim_overlap=0).label == "contradict"


def test_the_options_come_from_the_config_and_default_on():
    options = resolve_options()
    assert options.skip_boilerplate is True and options.min_claim_overlap == 1
    cfg = compose_config(
        "predict",
        [
            "model_dir=/m",
            "input=i.jsonl",
            "output=o.jsonl",
            "mode=document",
            "document.skip_boilerplate=false",
            "document.min_claim_overlap=0",
        ],
    )
    options = resolve_options(cfg.document)
    assert options.skip_boilerplate is False and options.min_claim_overlap == 0
