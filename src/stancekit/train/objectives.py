"""Training objectives beyond plain cross-entropy: distillation from a teacher and shortcut debiasing.

Both need something per training pair that the gold label does not carry, computed once before training
and stored as columns of the tokenised training set, so the loss reads it from the batch:

* ``teacher_logits`` (``train.teacher=PATH``): a larger saved stancekit model's logits for every training
  pair, computed once and cached pair by pair under ``paths.cache_dir/teacher`` (one folder per teacher
  weights hash, max length, backend and precision), so a rerun, a resumed run or another seed of the
  student does not run the teacher again, and a changed mixture runs it on the new pairs only. The student
  learns from ``(1 - alpha) * CE(gold) + alpha * T^2 * KL(teacher_T || student_T)`` (Hinton et al., 2015):
  the teacher's softened probabilities say which wrong labels are nearly right, which a one-hot label cannot.
  With ``train.teacher_on_templates=false`` the capability pairs of :mod:`stancekit.data.capability_augment`
  (templates whose labels are right by construction, for skills the teacher was never trained on and often
  fails) learn their gold label alone, with the full weight of a gold term (alpha 0 for them):
  ``teacher_weight`` is 0 for them and 1 elsewhere, and the teacher does not score them.
* ``bias_log_probs`` (``train.debias=poe|reweight``): the log-probabilities of a hypothesis-only model (TF-IDF
  + logistic regression on the claim alone, :class:`~stancekit.eval.baselines.TfidfBaseline`), fitted on the
  same training split and predicted out of fold (each pair scored by a model that never saw it: a model
  scoring its own training pairs is over-confident, and the debiased loss would then see a "shortcut" in
  every pair). ``poe`` trains the product of experts ``softmax(student + log p_bias)`` against the gold
  label (Clark et al., 2019; He et al., 2019): where the claim alone already gives the answer, the student
  gets little gradient, so it must learn from the evidence. ``reweight`` scales each pair's cross-entropy by
  ``1 - p_bias(gold)`` (Schuster et al., 2019; Utama et al., 2020). At test time the student is used alone.

* ``uniform_target`` (``train.no_evidence_target=uniform``): 1 for the training pairs whose premise carries no
  evidence (:func:`stancekit.data.augment.has_no_evidence`: blanked premises, the capability pairs' empty and
  furniture-only premises), 0 elsewhere. Those pairs learn equal probabilities instead of their ``neutral``
  label, in place of every other term: with nothing to go on, the honest answer is no opinion, which the
  classifier's ``min_confidence`` turns into an abstention on content-free evidence (an empty premise is
  refused as bad input at inference), where a confident ``neutral`` would be a claim about the world ("the
  evidence leaves it open") that the model cannot have checked.

With both, the debiasing applies to the gold term and the teacher term is unchanged. With debiasing and the
uniform target, the bias model is fitted on the pairs that learn a label only: a blanked copy repeats its
original's claim with ``neutral``, so fitted on both, the bias model would learn that the claim alone says
less than it does, and give the originals a weaker ``p_bias`` than the training split warrants.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from datasets import Dataset
from sklearn.model_selection import StratifiedKFold

from ..artifacts import atomic_path
from ..data.augment import has_no_evidence
from ..data.capability_augment import SOURCE_PREFIX
from ..eval.baselines import TfidfBaseline
from ..infer.classifier import StanceClassifier
from ..infer.precision import resolve_inference_precision
from ..labels import LABELS
from ..models.folder import read_metadata
from ..system import pick_device

log = logging.getLogger(__name__)

DEBIAS_MODES = ("none", "poe", "reweight")
NO_EVIDENCE_TARGETS = ("label", "uniform")
# Per-pair columns the loss reads from the batch; the Trainer must not drop them (StanceTrainer keeps them).
AUX_COLUMNS = ("teacher_logits", "teacher_weight", "bias_log_probs", "uniform_target")


# ------------------------------------------------------------------------------------------- the bias model
def bias_log_probs(hypotheses: Sequence[str], labels: Sequence[int], folds: int = 5, seed: int = 0) -> np.ndarray:
    """Out-of-fold log-probabilities (n x 3, LABELS order) of a hypothesis-only TF-IDF model.

    Each fold's pairs are scored by a model fitted on the other folds (stratified by label), so no pair's
    bias score comes from a model that memorised it.
    """
    hypotheses, labels = list(hypotheses), np.asarray(labels)
    counts = np.bincount(labels, minlength=len(LABELS))
    folds = int(min(folds, counts[counts > 0].min()))
    if folds < 2:
        raise ValueError("train.debias needs at least 2 training pairs of every label present to fit a bias model")
    out = np.zeros((len(hypotheses), len(LABELS)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, score_idx in splitter.split(np.zeros(len(labels)), labels):
        model = TfidfBaseline(hypothesis_only=True, seed=seed).fit(
            [""] * len(fit_idx), [hypotheses[i] for i in fit_idx], labels[fit_idx].tolist()
        )
        out[score_idx] = model.predict_logits([("", hypotheses[i]) for i in score_idx])
    return out


# ------------------------------------------------------------------------------------------- the teacher
def teacher_store_key(teacher_dir: str | Path, max_length: int, backend: str, precision: str) -> str:
    """The name of one teacher's score folder: it changes whenever the teacher's weights, the max length or the
    backend and (resolved) precision it runs at do. The pairs are keyed one by one inside it (:func:`pair_keys`)."""
    digest = hashlib.sha256()
    weights = read_metadata(Path(teacher_dir)).get("weights_sha256")
    # A folder without a recorded hash (not made by stancekit) is keyed by its resolved path instead.
    digest.update(json.dumps(weights or str(Path(teacher_dir).resolve())).encode())
    digest.update(f"{max_length}/{backend}/{precision}".encode())
    return digest.hexdigest()[:32]


def pair_keys(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """One 16-byte key per (premise, hypothesis) pair, as an n x 16 uint8 array."""

    def key(premise: str, hypothesis: str) -> bytes:
        # The premise's length first: no separator byte can be confused with text (scraped text may hold NULs).
        text = premise.encode("utf-8", "surrogatepass")
        digest = hashlib.blake2b(len(text).to_bytes(8, "little"), digest_size=16)
        digest.update(text)
        digest.update(hypothesis.encode("utf-8", "surrogatepass"))
        return digest.digest()

    digests = b"".join(key(premise, hypothesis) for premise, hypothesis in pairs)
    return np.frombuffer(digests, dtype=np.uint8).reshape(len(pairs), 16)


# The teacher scores the missing pairs this many at a time, each part saved as it is done: scoring ~80k pairs
# with MPNet takes most of an hour on 2 cores, and a run stopped on the way continues from its last part.
TEACHER_PART = 4096


def _stored_scores(folder: Path, wanted: set[bytes]) -> dict[bytes, np.ndarray]:
    """The logits saved in ``folder`` (its ``*.npz`` parts) of the pairs keyed in ``wanted``, by pair key.

    Only the wanted rows are kept: the folder holds every pair this teacher ever scored, for any mixture. A part
    that cannot be read (a copy cut short, another format) is skipped with a warning, and its pairs are scored
    again, rather than stopping the run.
    """
    scores: dict[bytes, np.ndarray] = {}
    for part in sorted(folder.glob("*.npz")):
        try:
            with np.load(part, allow_pickle=False) as saved:
                keys, logits = saved["keys"], saved["logits"]
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:
            log.warning("teacher logits: ignoring %s, which cannot be read (%s)", part, error)
            continue
        if keys.dtype != np.uint8 or keys.shape != (len(logits), 16) or logits.shape[1:] != (len(LABELS),):
            log.warning("teacher logits: ignoring %s (keys %s, logits %s)", part, keys.shape, logits.shape)
            continue
        scores.update((key, row) for key, row in zip(map(bytes, keys), logits) if key in wanted)
    return scores


def _save_part(folder: Path, keys: np.ndarray, logits: np.ndarray) -> None:
    name = hashlib.sha256(keys.tobytes()).hexdigest()[:32]
    with atomic_path(folder / f"{name}.npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, keys=keys, logits=logits)


def teacher_logits(
    teacher_dir: str | Path,
    pairs: Sequence[tuple[str, str]],
    cache_dir: str | Path,
    max_length: int,
    batch_size: int = 64,
    backend: str = "torch",
    precision: str = "auto",
) -> np.ndarray:
    """The teacher's logits (n x 3, LABELS order, before its temperature) for ``pairs``, cached on disk.

    ``backend`` and ``precision`` are :meth:`StanceClassifier.from_pretrained`'s: the default (PyTorch, labels
    equal to fp32's) or a faster choice such as ``openvino`` at ``bf16``, whose logits differ from fp32's by
    rounding only, far less than the temperature-softened targets the student learns from.

    The cache holds each pair's logits under its own key, in one folder per teacher, max length, backend and
    precision (:func:`teacher_store_key`), so only pairs the teacher has never scored are run: a rerun, a
    resumed run or another seed scores none, and a mixture with an added source, other caps or augmented pairs
    scores only what is new. The missing pairs are scored in parts of :data:`TEACHER_PART`, each written
    (atomically) as soon as it is done, so a run killed while the teacher works continues where it stopped.
    """
    if not len(pairs):
        return np.zeros((0, len(LABELS)), dtype=np.float32)
    # Keyed by the precision it resolves to on this machine (auto: bf16-checked or fp32), so a cache copied
    # from another machine never mixes the two.
    resolved = resolve_inference_precision(precision, backend, pick_device("auto"))
    folder = Path(cache_dir) / "teacher" / teacher_store_key(teacher_dir, max_length, backend, resolved)
    keys = pair_keys(pairs)
    names = [bytes(key) for key in keys]
    scores = _stored_scores(folder, set(names))
    missing: dict[bytes, int] = {}  # first index of each pair not yet scored (a repeated pair is scored once)
    for i, name in enumerate(names):
        if name not in scores:
            missing.setdefault(name, i)
    log.info(
        "teacher logits: %d of %d training pairs cached in %s; scoring the other %d distinct pairs with %s (%s, %s)",
        sum(name in scores for name in names),
        len(pairs),
        folder,
        len(missing),
        teacher_dir,
        backend,
        precision,
    )
    todo = list(missing.values())
    teacher = None
    for start in range(0, len(todo), TEACHER_PART):
        if teacher is None:
            # The default precision (auto): bf16 with an fp32 recheck of close calls where the CPU has native
            # bf16, so the teacher's labels are fp32's and its probabilities within ~0.02 of them, at about half
            # the time. Conversion backends (openvino, onnx) convert the teacher's folder once, inside it.
            teacher = StanceClassifier.from_pretrained(
                str(teacher_dir), batch_size=batch_size, max_length=max_length, backend=backend, precision=precision
            )
        rows = todo[start : start + TEACHER_PART]
        # Empty premises are training pairs too (data.augment.capabilities: no evidence means neutral).
        part = np.asarray(teacher.predict_logits([pairs[i] for i in rows], allow_empty_premise=True), np.float32)
        _save_part(folder, keys[rows], part)
        scores.update(zip((names[i] for i in rows), part))
        log.info("teacher logits: %d of %d missing pairs", start + len(rows), len(todo))
    return np.stack([scores[name] for name in names]).astype(np.float32, copy=False)


def is_template(sources: Sequence[str]) -> np.ndarray:
    """Which training pairs are capability pairs (``source`` ``capability_aug:<family>...``)."""
    return np.array([source.startswith(f"{SOURCE_PREFIX}:") for source in sources], dtype=bool)


def weighted_labels(train: Dataset, no_evidence_target: str) -> list[int]:
    """The training labels that ``train.class_weights=balanced`` counts: with ``no_evidence_target=uniform`` the
    pairs without evidence learn no label, so they do not count as ``neutral``."""
    if no_evidence_target != "uniform":
        return list(train["label"])
    return [label for label, source in zip(train["label"], train["source"]) if not has_no_evidence(source)]


def add_aux_columns(
    train: Dataset,
    *,
    teacher: str | None,
    debias: str,
    cache_dir: str | Path,
    max_length: int,
    batch_size: int = 64,
    seed: int = 0,
    no_evidence_target: str = "label",
    teacher_backend: str = "torch",
    teacher_precision: str = "auto",
    teacher_on_templates: bool = True,
) -> Dataset:
    """The training set with the per-pair columns the configured objective needs (none for plain CE)."""
    if debias not in DEBIAS_MODES:
        raise ValueError(f"train.debias must be one of {list(DEBIAS_MODES)}, not {debias!r}")
    if no_evidence_target not in NO_EVIDENCE_TARGETS:
        raise ValueError(
            f"train.no_evidence_target must be one of {list(NO_EVIDENCE_TARGETS)}, not {no_evidence_target!r}"
        )
    pairs = list(zip(train["premise"], train["hypothesis"]))
    uniform = no_evidence_target == "uniform"
    flags = np.array([has_no_evidence(source) for source in train["source"]] if uniform else [False] * len(train))
    if teacher:
        # Pairs that learn the uniform target, and template pairs kept from the teacher, never read the
        # teacher's term (make_loss): they are not scored.
        gold_only = np.zeros(len(pairs), dtype=bool) if teacher_on_templates else is_template(train["source"])
        scored = np.flatnonzero(~(flags | gold_only))
        logits = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        logits[scored] = teacher_logits(
            teacher, [pairs[i] for i in scored], cache_dir, max_length, batch_size, teacher_backend, teacher_precision
        )
        train = train.add_column("teacher_logits", logits.tolist())
        if gold_only.any():
            # Counted without the no-evidence templates, which learn the uniform target instead.
            log.info("capability pairs on their gold labels alone (no teacher): %d", int((gold_only & ~flags).sum()))
            train = train.add_column("teacher_weight", (~gold_only).astype(float).tolist())
        elif not teacher_on_templates:
            log.warning("train.teacher_on_templates=false: no capability pairs (data.augment.capabilities) to keep")
    elif not teacher_on_templates:
        # Asked for, but nothing to apply it to: say so rather than train a plain model silently.
        log.warning("train.teacher_on_templates=false has no effect without train.teacher")
    if debias != "none":
        bias = _bias_of_labelled_pairs(train, flags, seed)
        train = train.add_column("bias_log_probs", bias.astype(np.float32).tolist())
    if uniform:
        if not flags.any():
            # Asked for, but nothing to apply it to: say so rather than train a plain model silently.
            log.warning("train.no_evidence_target=uniform: no training pair is tagged as carrying no evidence")
        else:
            log.info("no-evidence pairs (equal-probability target): %d of %d", int(flags.sum()), len(flags))
            train = train.add_column("uniform_target", flags.astype(float).tolist())
    return train


def _bias_of_labelled_pairs(train: Dataset, no_evidence: np.ndarray, seed: int) -> np.ndarray:
    """``bias_log_probs`` fitted and predicted on the pairs that learn their label; the pairs flagged in
    ``no_evidence`` (which learn the uniform target, so their bias is never read) get uniform log-probs."""
    keep = np.flatnonzero(~no_evidence)
    hypotheses, labels = train["hypothesis"], np.asarray(train["label"])
    bias = np.full((len(train), len(LABELS)), np.log(1 / len(LABELS)))
    bias[keep] = bias_log_probs([hypotheses[i] for i in keep], labels[keep], seed=seed)
    agree = float((bias[keep].argmax(axis=1) == labels[keep]).mean())
    log.info("bias model (hypothesis only, out of fold): accuracy %.3f on %d training pairs", agree, len(keep))
    return bias
