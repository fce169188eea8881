"""Data: one adapter per source format, mixtures and hold-back, augmentations, sentences of long documents,
and precise errors for bad input."""

from .adapters import Example, source_name
from .document_input import DOCUMENT_INPUTS, apply_document_input, read_document_items
from .errors import ON_ERROR_MODES, SKIPPED_ROWS_FILE, DataError, RowErrors, write_skipped_rows
from .leakage import LEAK_MODES, LeakError, TestIndex, normalise
from .sources import READERS, SourceRead, load_source
from .splits import FEATURES, Splits, build_splits, format_summary

__all__ = [
    "DOCUMENT_INPUTS",
    "FEATURES",
    "LEAK_MODES",
    "LeakError",
    "TestIndex",
    "normalise",
    "ON_ERROR_MODES",
    "READERS",
    "SKIPPED_ROWS_FILE",
    "DataError",
    "Example",
    "RowErrors",
    "SourceRead",
    "Splits",
    "apply_document_input",
    "build_splits",
    "format_summary",
    "load_source",
    "read_document_items",
    "source_name",
    "write_skipped_rows",
]
