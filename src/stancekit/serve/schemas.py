"""The JSON bodies of the HTTP API, as pydantic models: FastAPI validates requests against them (a 422
naming the field otherwise) and documents them on the OpenAPI page (``/docs``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..labels import LABELS


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("empty text")
    return value


class _Strict(BaseModel):
    # An unknown field is a client's typo ("evidance"): an error naming it, never silently ignored.
    model_config = ConfigDict(extra="forbid")


class PairIn(_Strict):
    evidence: str = Field(description="The evidence (premise): a sentence or passage.")
    claim: str = Field(description="The claim (hypothesis) to check against the evidence.")

    _check = field_validator("evidence", "claim")(_not_blank)


class PairsRequest(_Strict):
    pairs: list[PairIn] = Field(min_length=1, description="The pairs to label; answers keep their order.")
    min_confidence: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Below this probability a pair is flagged `abstained`."
    )


class PairOut(BaseModel):
    label: str = Field(description=f"One of {', '.join(LABELS)}.")
    probabilities: dict[str, float] = Field(description="Calibrated probability per label.")
    confidence: float = Field(description="The label's probability.")
    abstained: bool = Field(description="confidence < min_confidence: route this pair to a person.")


class PairsResponse(BaseModel):
    predictions: list[PairOut]


class DocumentRequest(_Strict):
    claim: str = Field(description="The claim to check.")
    document: str = Field(description="The article (or one evidence sentence), as plain text.")
    min_confidence: float | None = Field(default=None, ge=0.0, le=1.0)

    _check = field_validator("claim", "document")(_not_blank)


class EvidenceOut(BaseModel):
    text: str
    label: str = Field(description="support or contradict")
    score: float = Field(description="The unit's probability of that label.")
    start: int = Field(description="Offset of the unit's first character in `document` (Unicode code points).")
    end: int = Field(description="Offset just past its last character: document[start:end] is `text`.")


class DocumentResponse(BaseModel):
    label: str
    probabilities: dict[str, float]
    confidence: float
    abstained: bool
    evidence: list[EvidenceOut] = Field(description="Strongest first; support and contradict units.")
    n_sentences: int
    n_units: int = Field(description="Units scored (sentences and windows related to the claim).")


class ErrorOut(BaseModel):
    error: str = Field(description="What was wrong, naming the field.")
    field: str | None = Field(default=None, description="The request field, dotted (pairs.0.claim).")
