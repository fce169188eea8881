"""Models: resolving and building the base model, packaged base models, how pairs become tokens, and what a
saved model folder must hold."""

from .base import PACKAGED_PREFIX, build_model, load_tokenizer, resolve_model_path
from .encoding import TruncationWarning, count_over_length, encode_pairs, encode_pairs_counted, usable_max_length
from .folder import NotAStanceModelError, UnsafeModelError, WeightsIntegrityError, check_stance_config

__all__ = [
    "PACKAGED_PREFIX",
    "NotAStanceModelError",
    "TruncationWarning",
    "UnsafeModelError",
    "WeightsIntegrityError",
    "build_model",
    "check_stance_config",
    "count_over_length",
    "encode_pairs",
    "encode_pairs_counted",
    "load_tokenizer",
    "resolve_model_path",
    "usable_max_length",
]
