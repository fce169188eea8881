"""Sentences of a document with exact character offsets, and the ones most similar to a claim.

Both training data (``data.document_input=selected_sentences``) and document-level stance
(:mod:`stancekit.document`) work on sentences, so they are split here, once, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Sentence:
    """A sentence (or window of sentences) of a document: ``document[start:end] == text``."""

    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    # clean=False: the text is not rewritten, so offsets stay those of the original document.
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


@lru_cache(maxsize=8192)
def split_sentences(document: str) -> tuple[Sentence, ...]:
    """The document's sentences, with exact character offsets (``document[s.start:s.end] == s.text``).

    pySBD finds the sentence starts; each sentence runs to the next start, stripped of surrounding
    whitespace. Text pySBD cannot place (it drops a sentence it altered) stays inside its neighbour, so
    every non-blank character of the document belongs to exactly one sentence. Cached: FNC-1 pairs each
    body with about 28 headlines.
    """
    starts: list[int] = []
    for span in _segmenter().segment(document):
        if not starts or span.start > starts[-1]:
            starts.append(span.start)
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    sentences = []
    for begin, end in zip(starts, starts[1:] + [len(document)]):
        piece = document[begin:end]
        start = begin + (len(piece) - len(piece.lstrip()))
        stop = end - (len(piece) - len(piece.rstrip()))
        if stop > start:
            sentences.append(Sentence(document[start:stop], start, stop))
    return tuple(sentences)


@lru_cache(maxsize=4096)
def _sentence_index(document: str):
    """TF-IDF over the document's own sentences (fitted once per document: FNC-1 reuses each body often)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [s.text for s in split_sentences(document)]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    try:
        return vectorizer, vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stop words and punctuation: no vocabulary to compare with
        return None, None


def select_sentences(claim: str, document: str, k: int) -> list[Sentence]:
    """The ``k`` sentences most similar to the claim (TF-IDF cosine), in document order.

    A cheap lexical selector: the sentences that share the claim's rarer words. Ties and documents without
    any usable vocabulary keep the earlier sentences.
    """
    sentences = split_sentences(document)
    if len(sentences) <= k:
        return list(sentences)
    vectorizer, matrix = _sentence_index(document)
    if vectorizer is None:
        similarity = np.zeros(len(sentences))
    else:
        similarity = (matrix @ vectorizer.transform([claim]).T).toarray().ravel()
    top = sorted(range(len(sentences)), key=lambda i: (-similarity[i], i))[:k]
    return [sentences[i] for i in sorted(top)]


def selected_text(claim: str, document: str, k: int) -> str:
    """The selected sentences joined with spaces: the premise for ``selected_sentences`` input."""
    return " ".join(s.text for s in select_sentences(claim, document, k))
