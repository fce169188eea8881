"""Readers for claim-verification sets whose evidence must be assembled: Check-COVID and AVeriTeC.

Both give a claim (the hypothesis) and point at its evidence instead of holding one premise string:
Check-COVID names sentences of an abstract in a separate corpus file, AVeriTeC lists question-answer pairs
found on the web. Each reader builds one premise from them, and then maps the row like any other source.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..config import SourceConfig
from .adapters import Example, PairBuilder, keep_row, need_files, resolve_path, source_name
from .errors import DataError
from .readers import Record, iter_json_array, iter_jsonl


def _abstracts(path: Path, build: PairBuilder) -> dict[str, list[str]]:
    corpus: dict[str, list[str]] = {}
    for line, record in iter_jsonl(path, build.errors):
        if "cord_id" not in record or not isinstance(record.get("abstract"), list):
            build.errors.report(DataError(path, line, "abstract", "expected cord_id and a list of sentences"), record)
            continue
        corpus[str(record["cord_id"])] = [str(sentence) for sentence in record["abstract"]]
    return corpus


def _evidence_sentences(record: Record, sentences: list[str], path: Path, line: int) -> str:
    evidence = record.get("evidence_set")
    if not isinstance(evidence, list) or not evidence:
        raise DataError(path, line, "evidence_set", "expected a non-empty list of {sent_index, type}")
    indices = set()
    for item in evidence:
        index = item.get("sent_index") if isinstance(item, dict) else None
        if not isinstance(index, int) or not 0 <= index < len(sentences):
            problem = f"sent_index {index!r} is not a sentence of an abstract with {len(sentences)} sentences"
            raise DataError(path, line, "evidence_set", problem)
        indices.add(index)
    # In abstract order, so the premise reads as the passage it was taken from.
    return " ".join(sentences[i].strip() for i in sorted(indices))


def read_check_covid(src: SourceConfig, root: Path, build: PairBuilder) -> Iterator[Example]:
    """Check-COVID: each claim row names an abstract (``cord_id``, a line of ``bodies_file`` = corpus.json)
    and sentences of it (``evidence_set``, 0-based indices); the premise is those sentences, joined in the
    abstract's order. NOTENOUGHINFO rows come with sentences too (ones that do not settle the claim)."""
    if not src.bodies_file:
        raise ValueError(f"data source {source_name(src)!r}: check_covid needs bodies_file (corpus.json)")
    corpus_path = resolve_path(src.bodies_file, root)
    corpus = _abstracts(corpus_path, build)
    for name in need_files(src):
        path = resolve_path(name, root)
        for line, record in iter_jsonl(path, build.errors):
            if not keep_row(src, record, path, line, build.errors):
                continue
            cord_id = str(record.get("cord_id"))
            try:
                if cord_id not in corpus:
                    raise DataError(path, line, "cord_id", f"abstract {cord_id!r} is not in {corpus_path}")
                premise = _evidence_sentences(record, corpus[cord_id], path, line)
            except DataError as err:
                build.errors.report(err, record)
                continue
            if (pair := build(record, path, line, premise=premise)) is not None:
                yield pair


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _answer_text(answer: Any) -> str:
    if not isinstance(answer, dict):
        return ""
    text, explanation = _text(answer.get("answer")), _text(answer.get("boolean_explanation"))
    if text and explanation and answer.get("answer_type") == "Boolean":
        # "Yes"/"No" alone says nothing without the annotator's reason.
        text = f"{text.rstrip('.')}. {explanation}"
    return text


def qa_premise(record: Record, path: str, line: int) -> str:
    """AVeriTeC's evidence as one premise: each question followed by its answers, in the annotators' order.

    Unanswerable questions stay in ("No answer could be found."): that nothing was found is evidence for
    Not Enough Evidence. Empty questions and answers (a few in the release) are left out; a claim with no
    evidence text at all is a bad row. The ``justification`` is never used, because it states the verdict.
    """
    questions = record.get("questions")
    if not isinstance(questions, list):
        raise DataError(path, line, "questions", "expected a list of questions")
    parts = []
    for item in questions:
        if not isinstance(item, dict):
            continue
        answers = item.get("answers") if isinstance(item.get("answers"), list) else []
        texts = [_text(item.get("question")), *(_answer_text(answer) for answer in answers)]
        parts.append(" ".join(text for text in texts if text))
    premise = " ".join(part for part in parts if part)
    if not premise:
        raise DataError(path, line, "questions", "no question or answer text")
    return premise


def read_averitec(src: SourceConfig, root: Path, build: PairBuilder) -> Iterator[Example]:
    """AVeriTeC: a JSON array of claims with question-answer evidence, read in place from the release zip
    (``member`` names the file inside it) or from the unpacked ``train.json``."""
    for name in need_files(src):
        path = resolve_path(name, root)
        where = f"{path}!{src.member}" if src.member else str(path)
        for line, record in iter_json_array(path, src.member):
            if not keep_row(src, record, where, line, build.errors):
                continue
            try:
                premise = qa_premise(record, where, line)
            except DataError as err:
                build.errors.report(err, record)
                continue
            if (pair := build(record, where, line, premise=premise)) is not None:
                yield pair
