"""Sentences with exact character offsets, and the sentences most similar to a claim."""

from __future__ import annotations

import pytest
from datasets import Dataset

from stancekit.data import FEATURES, Splits, apply_document_input
from stancekit.data.sentences import select_sentences, split_sentences
from tests.helpers import DECISIVE, long_article


def test_sentence_offsets_are_exact_and_cover_the_text():
    document = (
        '  Dr. Smith arrived at 3 p.m. on Monday.  He said: "No comment."\n\nThe U.S. economy grew 3.2% in Q1.\n'
        "A line without a full stop\nThe same sentence. The same sentence. Ünïcode — dashes… and more!\n\n\n"
    )
    sentences = split_sentences(document)
    assert len(sentences) >= 6
    for s in sentences:
        assert document[s.start : s.end] == s.text and s.text == s.text.strip()
    assert all(a.end <= b.start for a, b in zip(sentences, sentences[1:]))
    # Every non-blank character belongs to a sentence: nothing is dropped.
    covered = "".join(s.text for s in sentences)
    assert "".join(document.split()) == "".join(covered.split())
    repeated = [s for s in sentences if s.text == "The same sentence."]
    assert len(repeated) == 2 and repeated[0].start != repeated[1].start
    assert "Dr. Smith arrived at 3 p.m. on Monday." in [s.text for s in sentences]


def test_selected_sentences_are_the_most_similar_in_document_order():
    document = long_article()
    chosen = select_sentences("Lavrov and the Kremlin on the peacekeepers proposal", document, 3)
    assert len(chosen) == 3 and DECISIVE in [s.text for s in chosen]
    assert [s.start for s in chosen] == sorted(s.start for s in chosen)
    assert select_sentences("anything", "Only one. And two.", 5) == list(split_sentences("Only one. And two."))

    pair = {"id": "a", "premise": document, "hypothesis": "Lavrov ruled out the proposal", "label": 1, "source": "t"}
    short = {"id": "b", "premise": "A short premise.", "hypothesis": "A claim.", "label": 2, "source": "t"}
    splits = Splits(train=Dataset.from_list([pair, short], features=FEATURES), test={"t": Dataset.from_list([pair])})

    class Data:
        document_input = "selected_sentences"
        document_sentences = 2

    out = apply_document_input(splits, Data)
    assert DECISIVE in out.train[0]["premise"] and len(out.train[0]["premise"]) < 300
    assert out.train[1]["premise"] == "A short premise." and out.test["t"][0]["premise"] == out.train[0]["premise"]
    Data.document_input = "first_paragraph"
    with pytest.raises(ValueError, match="data.document_input"):
        apply_document_input(splits, Data)
