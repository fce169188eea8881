"""The leakage guard and duplicate removal, run whenever a run builds its training or validation data.

A score on a test set means something only if the model never saw that test pair, so every training and
validation pair is compared with every test pair (and with ``data.held_out``, pairs tested elsewhere) after
normalisation: case, punctuation and spacing do not hide a copy (TaxiNLI's copies of MNLI differ in quotes
and spaces). Sets whose premises are reused with new hypotheses (SNLI's image captions, MNLI's premises)
are flagged ``premise_sensitive``: there a training premise equal to a test premise leaks too, because the
model has learnt about that very text. Offending pairs are dropped and counted (``data.on_leak=drop``) or
stop the run (``error``). Exact duplicates inside the training data are dropped once, first source first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .adapters import Example

LEAK_MODES = ("drop", "error")

# Only ASCII letters and digits count: mojibake ("R??publique" for "République") and quotes do not hide a copy.
_NON_WORD = re.compile(r"[^0-9a-z]+")

PairKey = tuple[str, str]


def normalise(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: what two copies of one sentence still share."""
    return _NON_WORD.sub(" ", text.casefold()).strip()


def pair_key(pair: Example) -> PairKey:
    """The normalised (premise, hypothesis) of a pair."""
    return normalise(pair["premise"]), normalise(pair["hypothesis"])


class LeakError(ValueError):
    """A training or validation pair equals a test pair (``data.on_leak=error``)."""


@dataclass
class TestIndex:
    """What must not be trained on: every test pair, and the premises of premise-sensitive test sets."""

    pairs: dict[PairKey, str] = field(default_factory=dict)
    premises: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, pairs: Iterable[Example], premise_sensitive: bool) -> None:
        """Index one test (or held-out) source under its name."""
        for pair in pairs:
            key = pair_key(pair)
            self.pairs.setdefault(key, name)
            if premise_sensitive:
                self.premises.setdefault(key[0], name)

    def leak(self, pair: Example) -> str | None:
        """Why ``pair`` leaks (naming the test set it matches), or ``None``."""
        key = pair_key(pair)
        if key in self.pairs:
            return f"equals a pair of test set {self.pairs[key]!r}"
        if key[0] in self.premises:
            return f"its premise is a premise of premise-sensitive test set {self.premises[key[0]]!r}"
        return None


def drop_leaks(pairs: list[Example], index: TestIndex, mode: str, split: str) -> tuple[list[Example], int]:
    """The pairs that do not leak into the test sets, and how many were dropped; ``error`` raises instead."""
    if mode not in LEAK_MODES:
        raise ValueError(f"data.on_leak must be one of {list(LEAK_MODES)}, not {mode!r}")
    if not index.pairs:
        return pairs, 0
    kept = []
    for pair in pairs:
        reason = index.leak(pair)
        if reason is None:
            kept.append(pair)
        elif mode == "error":
            raise LeakError(
                f"{split} pair {pair['id']!r} of source {pair['source']!r} {reason} "
                f"(premise {pair['premise'][:80]!r}, claim {pair['hypothesis'][:80]!r}); "
                "data.on_leak=drop drops such pairs and counts them in data_summary.md"
            )
    return kept, len(pairs) - len(kept)


def drop_duplicates(pairs: list[Example], seen: set[PairKey]) -> tuple[list[Example], int]:
    """The pairs whose normalised text is neither in ``seen`` nor earlier in ``pairs``, and how many repeated.

    ``seen`` is not changed: the caller adds the pairs it keeps (after a cap, only those). A repeat is
    dropped whatever its label: the same text under two labels (CAD's revisions that restore the original
    pair) teaches nothing but noise.
    """
    kept, here = [], set()
    for pair in pairs:
        key = pair_key(pair)
        if key not in seen and key not in here:
            here.add(key)
            kept.append(pair)
    return kept, len(pairs) - len(kept)
