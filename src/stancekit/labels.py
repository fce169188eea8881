"""The one place where stancekit's labels are declared.

The order below is the order of the classifier's output units. It is written into every saved model's
``config.json`` (``id2label``/``label2id``) so a model carries its own label names, and it is never
inferred from data: a data set that happens to lack a label, or lists them in another order, must not
silently permute the classifier.
"""

from __future__ import annotations

from collections.abc import Mapping

LABELS: tuple[str, ...] = ("support", "contradict", "neutral")
LABEL2ID: dict[str, int] = {name: i for i, name in enumerate(LABELS)}
ID2LABEL: dict[int, str] = dict(enumerate(LABELS))


class UnknownLabelError(ValueError):
    """A source label with no entry in the adapter's label map."""


def map_label(raw: object, label_map: Mapping[str, str]) -> int:
    """Map a data set's own label (``"entailment"``, ``"e"``, ``0``…) to our label id.

    ``label_map`` goes from the source's label (compared as a stripped string, so ``0`` and ``"0"`` are the
    same key) to one of :data:`LABELS`. Anything not in the map is an :class:`UnknownLabelError`; callers add
    the file, line and field to the message.
    """
    key = str(raw).strip()
    if key not in label_map:
        known = ", ".join(repr(k) for k in label_map)
        raise UnknownLabelError(f"unknown label {key!r} (this source knows {known})")
    return LABEL2ID[label_map[key]]


def validate_label_map(label_map: Mapping[str, str], where: str) -> None:
    """Fail early when a configured label map points at a label we do not have."""
    for source_label, target in label_map.items():
        if target not in LABEL2ID:
            raise ValueError(
                f"{where}: label_map maps {source_label!r} to {target!r}, which is not one of {list(LABELS)}"
            )


def is_stance_label_config(id2label: Mapping[int, str] | Mapping[str, str] | None) -> bool:
    """True when a model config's ``id2label`` is exactly ours, in our order."""
    if not id2label:
        return False
    normalised = {int(k): v for k, v in id2label.items()}
    return normalised == ID2LABEL


# What a label is given to: (premise, hypothesis), i.e. (evidence, claim). The same type everywhere pairs
# are passed in memory; a labelled row read from a file is a ``stancekit.data.Example``.
Pair = tuple[str, str]
