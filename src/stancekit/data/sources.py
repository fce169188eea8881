"""Reading one source: pick its reader (or the hub), map its rows, and say what was skipped and why."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import SourceConfig
from .adapters import (
    Example,
    PairBuilder,
    Reader,
    keep_row,
    read_csv,
    read_jsonl,
    read_line_aligned,
    read_stance_bodies,
    source_name,
)
from .claim_sets import read_averitec, read_check_covid
from .errors import DataError

log = logging.getLogger(__name__)

READERS: dict[str, Reader] = {
    "jsonl": read_jsonl,
    "csv": read_csv,
    "line_aligned": read_line_aligned,
    "stance_bodies": read_stance_bodies,
    "check_covid": read_check_covid,
    "averitec": read_averitec,
}


def read_hub(src: SourceConfig, build: PairBuilder) -> Iterator[Example]:
    """A hub data set (users online): same columns and label map as a local file of that data set."""
    from datasets import load_dataset

    split = src.hub_split or src.split or "train"
    dataset = load_dataset(src.hub_id, src.hub_config, split=split)
    where = f"hub:{src.hub_id}[{split}]"
    for index, record in enumerate(dataset):
        if keep_row(src, record, where, index + 1, build.errors) and (pair := build(record, where, index + 1)):
            yield pair


@dataclass
class SourceRead:
    """What reading one source gave: its pairs, rows dropped by ``skip_labels``, and bad rows skipped."""

    pairs: list[Example]
    label_skipped: int = 0
    bad_rows: list[dict[str, Any]] = field(default_factory=list)


def load_source(src: SourceConfig, root: Path, on_error: str = "raise") -> SourceRead:
    """All pairs of one source (before capping), with what was skipped and why.

    ``on_error`` (``raise`` or ``skip``) applies unless the source sets its own. Reads the hub data set
    instead of local files when ``hub_id`` is set. A source whose every row is bad is an error in either mode.
    """
    build = PairBuilder(src, on_error=on_error)
    if src.hub_id:
        pairs = list(read_hub(src, build))
    elif src.adapter in READERS:
        pairs = list(READERS[src.adapter](src, root, build))
    else:
        raise ValueError(f"data source {source_name(src)!r}: unknown adapter {src.adapter!r}; known: {sorted(READERS)}")
    bad = build.errors.skipped
    if bad and not pairs:
        first = bad[0]
        raise DataError(
            first["file"],
            first["line"],
            first["field"],
            f"{first['problem']} (all {len(bad)} rows of source {build.name!r} are bad, so skipping leaves nothing)",
            fatal=True,
        )
    if bad:
        log.warning(
            "data source %r: skipped %d bad rows (on_error=skip), kept %d; first: %s, line %s, field %s: %s",
            build.name,
            len(bad),
            len(pairs),
            bad[0]["file"],
            bad[0]["line"],
            bad[0]["field"],
            bad[0]["problem"],
        )
    return SourceRead(pairs, build.skipped, bad)
