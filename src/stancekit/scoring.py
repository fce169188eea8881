"""Library side of scripts/evaluate.py and scripts/predict.py: a saved model applied to files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from .artifacts import update_metadata
from .baselines import fit_baseline
from .calibration import calibration_block, fit_on_dataset
from .capabilities import run_suite
from .config import DataConfig
from .data import DataError, RowErrors, Splits, build_splits
from .data.readers import Record, iter_jsonl
from .document import apply_document_input
from .evaluation import evaluate_sets
from .inference import StanceClassifier
from .robustness import count_over_length, write_skipped_rows

log = logging.getLogger(__name__)

# predict_file reads, labels and writes this many lines at a time: memory stays flat for any file size, and a
# chunk is large enough that sorting it by length leaves little padding.
PREDICT_CHUNK_LINES = 4096


def load_classifier(cfg: DictConfig) -> StanceClassifier:
    """The saved model of an evaluate/predict config, with its device, batching, length, backend and precision."""
    return StanceClassifier.from_pretrained(
        cfg.model_dir,
        device=cfg.device,
        batch_size=cfg.batch_size,
        max_length=cfg.max_length,
        backend=cfg.backend,
        num_threads=cfg.num_threads,
        precision=cfg.precision,
    )


def load_data_config(name: str, paths: DictConfig) -> DictConfig:
    """A data config by name (``configs/data/<name>.yaml``), validated and resolved against ``paths``."""
    from .cli import CONFIG_DIR

    file = Path(CONFIG_DIR) / "data" / f"{name}.yaml"
    if not file.exists():
        known = sorted(p.stem for p in file.parent.glob("*.yaml"))
        raise ValueError(f"unknown data config {name!r} in sets; known: {known}")
    data = OmegaConf.merge(OmegaConf.structured(DataConfig), OmegaConf.load(file))
    scope = OmegaConf.create({"paths": paths, "data": data})
    OmegaConf.resolve(scope)
    return scope.data


def collect_test_sets(cfg: DictConfig) -> tuple[Splits, str]:
    """The test sets of ``cfg.data`` plus those of every data config named in ``cfg.sets``, in that order."""
    splits = build_splits(cfg.data, cfg.paths.data_root, ("test",))
    names = [cfg.data.name]
    for name in cfg.sets:
        more = build_splits(load_data_config(name, cfg.paths), cfg.paths.data_root, ("test",))
        splits.test.update(more.test)
        splits.skipped_rows.extend(more.skipped_rows)
        names.append(name)
    return splits, " + ".join(n for n in names if n != "none")


def evaluate_model(cfg: DictConfig) -> dict:
    """Evaluate ``cfg.model_dir`` on the test sources of ``cfg.data`` and ``cfg.sets`` (and the capability
    suite when ``cfg.suite=capabilities``); write one report to the run folder."""
    splits, title = collect_test_sets(cfg)
    splits = apply_document_input(splits, cfg.data)  # the same document input the model was trained with
    if not splits.test and not cfg.suite:
        raise ValueError(
            f"nothing to evaluate: data config {cfg.data.name!r} has no test data (set data.test_file, data.test "
            "or sets=[...]) and no suite is set (suite=capabilities)"
        )
    write_skipped_rows(splits.skipped_rows, cfg.paths.output_dir)
    classifier = load_classifier(cfg)
    note = truncation_note(classifier, splits.test)
    return evaluate_sets(
        classifier.predict_logits,
        splits.test,
        cfg.paths.output_dir,
        title=f"stancekit evaluation: {title or cfg.suite}",
        context=f"Model `{cfg.model_dir}`; temperature {classifier.temperature:.3f}.{note}",
        temperature=classifier.temperature,
        capabilities=_suite(cfg.suite, lambda pairs: classifier.predict_proba(pairs, allow_empty_premise=True)),
    )


def _suite(name: str | None, predict_proba) -> dict | None:
    if not name:
        return None
    if name != "capabilities":
        raise ValueError(f"unknown suite {name!r}; the one suite is 'capabilities'")
    return run_suite(predict_proba)


def calibrate_model(cfg: DictConfig) -> dict:
    """Fit the temperature of ``cfg.model_dir`` on the validation split of ``cfg.data`` and store it.

    The validation split is the one training used (a validation source, or the same seeded hold-back), so
    calibrating again after training gives the temperature training stored; use your own validation file
    (``data=jsonl data.validation_file=...``) to calibrate a model for your data.
    """
    splits = build_splits(cfg.data, cfg.paths.data_root, ("train", "validation"))
    if splits.validation is None:
        raise ValueError(f"data config {cfg.data.name!r} has no validation data to calibrate on")
    classifier = StanceClassifier.from_pretrained(cfg.model_dir, device=cfg.device, batch_size=cfg.batch_size)
    temperature, logits, labels = fit_on_dataset(classifier.predict_logits, splits.validation)
    before, after = calibration_block(logits, labels, 1.0), calibration_block(logits, labels, temperature)
    update_metadata(cfg.model_dir, temperature=temperature)
    return {
        "temperature": temperature,
        "n": len(labels),
        "ece_before": before["ece"],
        "ece": after["ece"],
        "nll_before": before["nll"],
        "nll": after["nll"],
        "previous_temperature": classifier.temperature,
    }


def evaluate_baseline(cfg: DictConfig) -> dict:
    """Fit ``cfg.baseline`` on the training split of ``cfg.data`` (after the validation hold-back, as a model
    would be trained) and score it on the same test sets, with the same report."""
    train = build_splits(cfg.data, cfg.paths.data_root, ("train", "validation")).train
    if train is None:
        raise ValueError(f"data config {cfg.data.name!r} has no training data to fit a baseline on")
    model = fit_baseline(cfg.baseline, train, cfg.seed)
    splits, title = collect_test_sets(cfg)

    def proba(pairs):
        return np.exp(model.predict_logits(pairs))

    return evaluate_sets(
        model.predict_logits,
        splits.test,
        cfg.paths.output_dir,
        title=f"baseline {cfg.baseline}: {title}",
        context=f"Baseline `{cfg.baseline}` fitted on {len(train)} training pairs of `{cfg.data.name}`.",
        capabilities=_suite(cfg.suite, proba),
    )


def truncation_note(classifier: StanceClassifier, sets: dict) -> str:
    """Count the pairs of each set longer than the model's limit; a sentence for the report ("" if none)."""
    counts = {
        name: count_over_length(classifier.tokenizer, ds["premise"], ds["hypothesis"], classifier.max_length)
        for name, ds in sets.items()
    }
    total = sum(counts.values())
    if not total:
        return ""
    per_set = ", ".join(f"{name}: {n}" for name, n in counts.items() if n)
    note = f"{total} pairs were longer than {classifier.max_length} tokens, so truncated premise-first ({per_set})."
    log.warning(note)
    return " " + note


def _input_pair(record: Record, cfg: DictConfig, source: Path, line: int, seen: dict[str, int]) -> tuple[str, str]:
    """The (premise, hypothesis) of one predict input line, or a :class:`DataError` naming the bad field."""
    texts = []
    for field in (cfg.premise_field, cfg.hypothesis_field):
        if field not in record:
            raise DataError(source, line, field, f"missing field (found: {', '.join(map(str, record))})")
        value = record[field]
        if value is None:
            raise DataError(source, line, field, "value is null")
        if not isinstance(value, str):
            raise DataError(source, line, field, f"expected text, got {type(value).__name__} {value!r}")
        if not value.strip():
            raise DataError(source, line, field, "empty text")
        texts.append(value)
    if cfg.id_field:
        if record.get(cfg.id_field) is None:
            raise DataError(source, line, cfg.id_field, "missing id")
        key = str(record[cfg.id_field])
        if key in seen:
            raise DataError(source, line, cfg.id_field, f"duplicate id {key!r} (first on line {seen[key]})")
        seen[key] = line
    return texts[0], texts[1]


def predict_file(cfg: DictConfig, chunk_size: int = PREDICT_CHUNK_LINES) -> int:
    """Label every line of ``cfg.input`` and write ``cfg.output`` (input fields kept, predictions added).

    The file is streamed: ``chunk_size`` lines are read, labelled (length-sorted batches within the chunk)
    and written in input order before the next chunk is read, so memory stays flat for a file of any size;
    a progress bar counts the lines. The output goes to a temporary name first and is renamed when complete,
    so a failed run never leaves a truncated file that looks finished. A bad line is an error naming its
    line and field, or with ``on_error=skip`` it is left out of the output and listed in
    ``<run dir>/skipped_rows.jsonl``. Returns the number of pairs labelled.
    """
    source = Path(cfg.input)
    errors = RowErrors(cfg.on_error, source.name)
    seen: dict[str, int] = {}
    total_lines = count_lines(source)
    classifier = load_classifier(cfg)
    out = Path(cfg.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    labelled = 0
    try:
        with tmp.open("w", encoding="utf-8") as handle, tqdm(total=total_lines, unit=" lines", desc="predict") as bar:
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
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if not labelled:
        tmp.unlink(missing_ok=True)
        if not errors.skipped:
            raise DataError(source, None, None, "no lines to label (the file is empty)", fatal=True)
        first = errors.skipped[0]
        raise DataError(source, first["line"], first["field"], f"{first['problem']} (every line is bad)", fatal=True)
    write_skipped_rows(errors.skipped, cfg.paths.output_dir)
    tmp.replace(out)
    return labelled


def _write_labelled(classifier: StanceClassifier, records: list[Record], pairs: list, handle) -> int:
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
