"""Document-level stance: a claim against a whole article (sentence units, aggregation, evidence with
character offsets) and the FNC-1/ARC four-label view and score."""

from ..data.sentences import Sentence, split_sentences
from .aggregate import (
    AGGREGATIONS,
    INPUTS,
    DocumentResult,
    Evidence,
    predict_document,
    predict_documents,
    resolve_options,
)

__all__ = [
    "AGGREGATIONS",
    "INPUTS",
    "DocumentResult",
    "Evidence",
    "Sentence",
    "predict_document",
    "predict_documents",
    "resolve_options",
    "split_sentences",
]
