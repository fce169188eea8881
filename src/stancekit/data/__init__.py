"""Data: adapters for each source format, mixtures, and precise errors for bad input."""

from .adapters import READERS, read_source, source_name
from .errors import DataError
from .splits import FEATURES, Splits, build_splits, format_summary

__all__ = ["READERS", "DataError", "FEATURES", "Splits", "build_splits", "format_summary", "read_source", "source_name"]
