"""Library side of ``scripts/predict.py``: label an unlabelled JSONL file, pair by pair (``mode=pairs``) or
claim against whole document (``mode=document``). Input fields are kept, predictions added, and the output
file appears only when complete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from omegaconf import DictConfig
from tqdm.auto import tqdm

from ..artifacts import atomic_write, write_jsonl
from ..data import DataError, RowErrors, read_document_items, write_skipped_rows
from ..data.adapters import text_value
from ..data.readers import Record, iter_jsonl
from ..document.aggregate import predict_documents, resolve_options
from ..infer.classifier import StanceClassifier
from ..labels import Pair
from .common import load_classifier

# predict_file reads, labels and writes this many lines at a time: memory stays flat for any file size, and a
# chunk is large enough that sorting it by length leaves little padding.
PREDICT_CHUNK_LINES = 4096


def predict_file(cfg: DictConfig, chunk_size: int = PREDICT_CHUNK_LINES) -> int:
    """Label every line of ``cfg.input`` and write ``cfg.output`` (input fields kept, predictions added).

    The file is streamed: ``chunk_size`` lines are read, labelled (length-sorted batches within the chunk)
    and written in input order before the next chunk is read, so memory stays flat for a file of any size;
    a progress bar counts the lines. The output is written atomically, so a failed run never leaves a
    truncated file that looks finished. A bad line is an error naming its line and field, or with
    ``on_error=skip`` it is left out of the output and listed in ``<run dir>/skipped_rows.jsonl``. Returns
    the number of pairs labelled.
    """
    source = Path(cfg.input)
    errors = RowErrors(cfg.on_error, source.name)
    seen: dict[str, int] = {}
    total_lines = count_lines(source)
    classifier = load_classifier(cfg)
    labelled = 0
    with atomic_write(cfg.output) as handle, tqdm(total=total_lines, unit=" lines", desc="predict") as bar:
        records, pairs = [], []
        for line, record in iter_jsonl(source, errors):
            try:
                pair = _input_pair(record, cfg, source, line, seen)
            except DataError as err:
                errors.report(err, record)
                continue
            records.append(record)
            pairs.append(pair)
            if len(records) >= chunk_size:
                labelled += _write_labelled(classifier, records, pairs, handle)
                records, pairs = [], []
                bar.update(line - bar.n)
        labelled += _write_labelled(classifier, records, pairs, handle)
        bar.update(total_lines - bar.n)
        if not labelled:  # raised inside the block, so no output file is left behind
            if not errors.skipped:
                raise DataError(source, None, None, "no lines to label (the file is empty)", fatal=True)
            first = errors.skipped[0]
            problem = f"{first['problem']} (every line is bad)"
            raise DataError(source, first["line"], first["field"], problem, fatal=True)
        write_skipped_rows(errors.skipped, cfg.paths.output_dir)
    return labelled


def _input_pair(record: Record, cfg: DictConfig, source: Path, line: int, seen: dict[str, int]) -> Pair:
    """The (premise, hypothesis) of one predict input line, or a :class:`DataError` naming the bad field."""
    premise, hypothesis = (
        text_value(record, field, source, line, strip=False, what="field")
        for field in (cfg.premise_field, cfg.hypothesis_field)
    )
    if cfg.id_field:
        if record.get(cfg.id_field) is None:
            raise DataError(source, line, cfg.id_field, "missing id")
        key = str(record[cfg.id_field])
        if key in seen:
            raise DataError(source, line, cfg.id_field, f"duplicate id {key!r} (first on line {seen[key]})")
        seen[key] = line
    return premise, hypothesis


def _write_labelled(classifier: StanceClassifier, records: list[Record], pairs: list[Pair], handle: IO[str]) -> int:
    """Label one chunk of predict input and write its lines, in input order, with the predictions added."""
    if not pairs:
        return 0
    probs = classifier.predict_proba(pairs)
    for record, p in zip(records, probs):
        record["prediction"] = classifier.labels[int(p.argmax())]
        record["probabilities"] = {lab: round(float(v), 6) for lab, v in zip(classifier.labels, p)}
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(records)


def count_lines(path: Path, block: int = 1 << 20) -> int:
    """Newline-terminated lines in a file (the progress bar's total), counted in 1 MiB binary blocks."""
    if not path.is_file():  # before the model is loaded: fail fast
        raise DataError(path, None, None, "file not found", fatal=True)
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(block):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def predict_documents_file(cfg: DictConfig) -> int:
    """``scripts/predict.py mode=document``: label each JSONL line's document against its claim.

    Each line needs a claim (``claim_fields``, default ``claim`` then ``headline``) and a document
    (``document_fields``: ``document`` then ``body``). Every input field is kept; ``prediction``,
    ``probabilities``, ``evidence`` (text, label, score, start, end) and ``n_sentences`` are added. The
    output is written atomically. Returns the number of documents labelled.
    """
    options = resolve_options(cfg.document)
    records, items = read_document_items(Path(cfg.input), list(cfg.claim_fields), list(cfg.document_fields))
    classifier = load_classifier(cfg)
    results = predict_documents(classifier.predict_proba, items, options, progress=True)
    for record, result in zip(records, results):
        d = result.to_dict()
        record.update(prediction=d["label"], probabilities=d["probabilities"], evidence=d["evidence"])
        record["n_sentences"] = d["n_sentences"]
    write_jsonl(cfg.output, records)
    return len(records)
