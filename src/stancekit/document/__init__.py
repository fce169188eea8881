"""Document-level stance: a claim against a whole article (sentence units, aggregation, evidence with
character offsets) and the FNC-1/ARC four-label view and score."""

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
    "predict_document",
    "predict_documents",
    "resolve_options",
]
