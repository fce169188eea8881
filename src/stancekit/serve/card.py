"""What ``GET /v1/model`` says about a model folder: its labels, base model, temperature, training data and
scores, read from the model card (``README.md``) that ``scripts/train.py`` writes and ``stancekit.json``.

A folder without a card (a model trained elsewhere) still answers, with what its config holds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..models.folder import read_metadata

_FIELD = re.compile(r"^- (Base model|Data config|Training|Objective): (.+)$")


def model_info(model_dir: str | Path, labels: tuple[str, ...]) -> dict[str, Any]:
    """A JSON-ready summary of the model folder for clients and the web page."""
    model_dir = Path(model_dir)
    meta = read_metadata(model_dir)
    card = model_dir / "README.md"
    text = card.read_text(encoding="utf-8") if card.is_file() else ""
    fields = {m.group(1): m.group(2).strip("` ") for m in map(_FIELD.match, text.splitlines()) if m}
    return {
        "name": model_dir.parent.name if model_dir.name == "model" else model_dir.name,
        "labels": list(labels),
        "base_model": fields.get("Base model"),
        "data_config": fields.get("Data config"),
        "training": fields.get("Training"),
        "objective": fields.get("Objective"),
        "temperature": float(meta.get("temperature", 1.0)),
        "training_data": table_rows(section(text, "Training data")),
        "validation": section(text, "Validation").strip() or None,
        "test": table_rows(section(text, "Test")),
    }


def section(markdown: str, title: str) -> str:
    """The text under ``## title`` up to the next ``## `` heading ("" if there is none)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, flags=re.M | re.S)
    return match.group(1) if match else ""


def table_rows(text: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table in ``text`` as dicts keyed by its header."""
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    if len(lines) < 2:
        return []

    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.strip("|").split("|")]

    header = cells(lines[0])
    return [dict(zip(header, cells(line))) for line in lines[2:]]
