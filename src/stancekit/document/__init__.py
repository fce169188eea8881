"""Document-level stance: a claim against a whole article (sentence units without boilerplate or unrelated
ones, aggregation, evidence with character offsets) and the FNC-1/ARC four-label view and score."""

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
from .evidence import boilerplate_rule, claim_overlap, is_boilerplate

__all__ = [
    "AGGREGATIONS",
    "INPUTS",
    "DocumentResult",
    "Evidence",
    "Sentence",
    "boilerplate_rule",
    "claim_overlap",
    "is_boilerplate",
    "predict_document",
    "predict_documents",
    "resolve_options",
    "split_sentences",
]
