"""Data: adapters for each source format, mixtures, and precise errors for bad input."""

from .adapters import READERS, SourceRead, load_source, read_source, source_name
from .errors import ON_ERROR_MODES, DataError, RowErrors
from .splits import FEATURES, Splits, build_splits, format_summary

__all__ = [
    "READERS",
    "DataError",
    "FEATURES",
    "ON_ERROR_MODES",
    "RowErrors",
    "SourceRead",
    "Splits",
    "build_splits",
    "format_summary",
    "load_source",
    "read_source",
    "source_name",
]
