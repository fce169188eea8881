"""How long documents enter pair data: as they are (cut at the model's limit) or as the sentences most
similar to the claim, and reading (claim, document) items from JSONL files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import DataError
from .readers import Record, iter_jsonl
from .sentences import selected_text
from .splits import Splits

# How training (and mode=pairs evaluation) feeds a long premise (DataConfig.document_input).
DOCUMENT_INPUTS = ("truncated", "selected_sentences")


def apply_document_input(splits: Splits, data: Any) -> Splits:
    """Apply ``data.document_input`` to every split before tokenisation.

    ``truncated`` (default) leaves premises alone (the tokenizer cuts long ones at ``model.max_length``);
    ``selected_sentences`` replaces each premise by its ``data.document_sentences`` sentences most similar to
    the hypothesis. Short premises (one sentence, as in NLI data) come through unchanged.
    """
    mode = getattr(data, "document_input", "truncated")
    if mode not in DOCUMENT_INPUTS:
        raise ValueError(f"data.document_input must be one of {list(DOCUMENT_INPUTS)}, not {mode!r}")
    if mode == "truncated":
        return splits
    k = int(data.document_sentences)
    if k < 1:
        raise ValueError(f"data.document_sentences must be >= 1, got {k}")

    def select(batch: dict[str, list]) -> dict[str, list]:
        return {"premise": [selected_text(h, p, k) for p, h in zip(batch["premise"], batch["hypothesis"])]}

    def transform(dataset):
        return dataset.map(select, batched=True, desc=f"select {k} sentences") if dataset is not None else None

    splits.train = transform(splits.train)
    splits.validation = transform(splits.validation)
    splits.test = {name: transform(dataset) for name, dataset in splits.test.items()}
    return splits


def _field(record: Record, names: Sequence[str], path: Path, line: int) -> str:
    """The first of ``names`` present in the record, as non-empty text; else a DataError naming the field."""
    for name in names:
        if name in record:
            value = record[name]
            if not isinstance(value, str) or not value.strip():
                raise DataError(path, line, name, f"expected non-empty text, got {value!r:.80}")
            return value
    wanted = " or ".join(repr(n) for n in names)
    raise DataError(path, line, names[0], f"missing (looked for {wanted}; found: {', '.join(map(str, record))})")


def read_document_items(
    path: Path, claim_fields: Sequence[str], document_fields: Sequence[str]
) -> tuple[list[Record], list[tuple[str, str]]]:
    """Records and ``(claim, document)`` items of a JSONL file; errors name the file, line and field."""
    if not claim_fields or not document_fields:
        raise ValueError("claim_fields and document_fields must each name at least one field")
    records, items = [], []
    for line, record in iter_jsonl(path):
        items.append((_field(record, claim_fields, path, line), _field(record, document_fields, path, line)))
        records.append(record)
    return records, items
