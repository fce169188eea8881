"""``StanceClassifier``: load a saved stance model and label (evidence, claim) pairs.

Example (runs as a doctest against a model folder made by ``scripts/train.py``)::

    >>> from stancekit import StanceClassifier
    >>> clf = StanceClassifier.from_pretrained("outputs/train/latest/model")  # doctest: +SKIP
    >>> clf.predict([("Lavrov ruled out European peacekeepers in Ukraine.",
    ...               "Russia would accept European peacekeepers.")])  # doctest: +SKIP
    ['contradict']
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from ..document import DocumentResult, predict_documents
from ..labels import ID2LABEL, LABELS, Pair
from ..models.encoding import encode_pairs_counted, usable_max_length, warn_truncated
from ..models.folder import NotAStanceModelError, check_stance_config, read_metadata, use_safetensors, verify_weights
from ..system import default_num_threads, pick_device
from .backends import BackendStanceModel, check_backend, check_calibration, needs_pytorch_model
from .batching import WARM_UP_PAIRS, cut_batches, padded_length
from .onnx import load_onnx_model
from .openvino import load_openvino_model
from .precision import RECHECK_MARGIN, Bf16Twin, close_calls, resolve_inference_precision, switch_to_fp32

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prediction:
    """One pair's result from :meth:`StanceClassifier.classify`."""

    label: str
    confidence: float
    probabilities: dict[str, float]
    abstained: bool = False


class StanceClassifier:
    """Labels (premise/evidence, hypothesis/claim) pairs as support / contradict / neutral.

    Pairs are tokenised once (in one call to the fast tokenizer), sorted by token length and batched, so a
    batch pads little (much faster on CPU); results come back in input order. Long pairs are truncated from
    the premise side. ``model`` is a transformers classifier, or a converted one
    (:class:`~stancekit.infer.backends.BackendStanceModel`: ``from_pretrained(path, backend="onnx")``,
    ``"openvino"``, ...). ``num_threads`` sets PyTorch's CPU threads (process-wide) and ONNX Runtime's or
    OpenVINO's; the default is the physical cores this process may use.

    ``precision`` (PyTorch backend): ``fp32``; ``bf16`` (autocast: ~1.6x faster on CPUs with native bf16,
    a few labels in 1,000 may differ from fp32); ``bf16-checked`` (bf16, then the close calls, pairs whose
    two best logits are within :attr:`recheck_margin`, recomputed in fp32, so labels match fp32 and
    probabilities are within ~0.02 of it; once more than 35 % of a call's pairs are close calls, the rest of
    the call runs in fp32, where rechecking would cost more than it saves); ``auto`` (default):
    ``bf16-checked`` on CPUs with native bf16 (AVX-512 BF16 or AMX), ``fp32`` elsewhere. The ``openvino``
    backend has the same precisions (``bf16`` and ``bf16-checked`` on CPUs with native bf16 only); ``onnx``
    and the int8 backends take ``auto`` or ``fp32`` (their own precision).

    Batches hold at most ``batch_size`` pairs and are cut where the sorted lengths jump
    (:attr:`pass_overhead_tokens`), so a handful of pairs of very different lengths is not all padded to the
    longest. ``pad_to_multiple_of`` rounds each batch's padded length up to a multiple (never past ``max_length``):
    fewer distinct shapes for the backends to build and cache kernels for, at the cost of a little padding
    (``None``, the default: each batch padded to its own longest pair).

    ``torch_compile=True`` (PyTorch backend): ``torch.compile(dynamic=True)`` (Inductor; a C++ compiler on CPUs)
    fuses element-wise work around the matrix products after first calls that compile (:meth:`warm_up`); it pays
    where the products are fast and the rest is not, as with AMX (docs/performance.md). Labels are eager's.
    """

    labels: tuple[str, ...] = LABELS
    recheck_margin: float = RECHECK_MARGIN
    # predict_logits tokenises, sorts and scores this many pairs at a time (memory flat in the number of pairs).
    chunk_size: int = 8192
    # What a forward pass costs beyond its padded tokens, in padded tokens (per-pass work, and small products
    # run below the matrix units' speed). Length-sorted pairs are cut into batches of at most batch_size that
    # minimise padded tokens plus this per pass, so a few pairs of very different lengths (a server's batch of
    # concurrent requests) go in several passes instead of all padded to the longest; None: fixed batch_size.
    pass_overhead_tokens: int | None = 64
    # A batch holds at most this many padded tokens (at least one pair): with long pairs (whole sentences
    # and windows of an article at max_length 512) batch_size x max_length tokens, and the attention
    # scores with them, would set the peak memory; None: batch_size alone.
    max_batch_tokens: int | None = 8192
    # bf16 passes (PyTorch, not compiled) run a twin whose Linear weights are already bf16 (Bf16Twin): the
    # same logits as autocast's per-pass casts, faster. False: autocast casts them in every pass.
    bf16_weight_copy: bool = True

    def __init__(
        self,
        model: PreTrainedModel | BackendStanceModel,
        tokenizer: PreTrainedTokenizerBase,
        device: str | torch.device = "auto",
        batch_size: int = 32,
        max_length: int | None = None,
        temperature: float = 1.0,
        num_threads: int | None = None,
        precision: str = "auto",
        pad_to_multiple_of: int | None = None,
        torch_compile: bool = False,
    ):
        check_stance_config(model.config.id2label, getattr(model, "name_or_path", "model"))
        if isinstance(model, BackendStanceModel):
            if str(device) not in {"auto", "cpu"}:
                raise ValueError(f"the {model.backend} backend runs on the CPU; got device={device!r}")
            self.backend, self.device, self.model = model.backend, torch.device("cpu"), model
        else:
            self.backend = "torch"
            self.device = pick_device(device) if isinstance(device, str) else device
            self.model = model.to(self.device).eval()
        self.num_threads = num_threads or default_num_threads()
        if self.device.type == "cpu":
            torch.set_num_threads(self.num_threads)
        self.precision = resolve_inference_precision(precision, self.backend, self.device)
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_length = usable_max_length(model.config, tokenizer, max_length)
        if pad_to_multiple_of is not None and pad_to_multiple_of < 1:
            raise ValueError(f"pad_to_multiple_of must be a positive integer or None, got {pad_to_multiple_of}")
        self.pad_to_multiple_of = pad_to_multiple_of
        if torch_compile and self.backend != "torch":
            raise ValueError(f"torch_compile=True is for backend=torch; the {self.backend} runtime compiles its graph")
        # dynamic=True: batches of every length and size share compiled graphs (the module: self.model._orig_mod).
        self.model = torch.compile(self.model, dynamic=True) if torch_compile else self.model
        self._bf16_twin = Bf16Twin(self.model) if self.backend == "torch" and not torch_compile else None
        self.torch_compile = torch_compile
        # Calibration: probabilities are softmax(logits / temperature); fitted on validation after training.
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.temperature = float(temperature)

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        device: str = "auto",
        batch_size: int = 32,
        max_length: int | None = None,
        trust_remote_code: bool = False,
        calibrated: bool = True,
        allow_pickle: bool = False,
        backend: str = "torch",
        num_threads: int | None = None,
        precision: str = "auto",
        calibration_pairs: Sequence[Pair] | None = None,
        pad_to_multiple_of: int | None = None,
        torch_compile: bool = False,
    ) -> StanceClassifier:
        """Load a model folder written by stancekit (or any classifier with our three labels).

        ``calibrated=False`` ignores the stored temperature (raw softmax probabilities). ``precision`` and
        ``torch_compile``: see the class (``auto``: bf16 with an fp32 recheck of close calls on CPUs with native
        bf16, else fp32).

        ``backend``: ``torch`` (default), ``onnx`` / ``onnx-int8`` / ``onnx-int8-static`` (static int8,
        calibrated) to run through ONNX Runtime on the CPU (``pip install 'stancekit[onnx]'``), or ``openvino``
        / ``openvino-int8`` through OpenVINO (``pip install 'stancekit[openvino]'``). The first use converts the
        folder into ``onnx/`` or ``openvino/`` inside it; labels and temperature are the same for every backend
        (see :mod:`stancekit.infer.onnx`, :mod:`stancekit.infer.openvino`). ``onnx-int8-static`` and
        ``openvino-int8`` are calibrated on real pairs once: pass ``calibration_pairs`` (a few hundred (premise,
        hypothesis) pairs, e.g. training pairs) the first time, or quantise beforehand with
        :func:`stancekit.infer.onnx.quantize_onnx_static` / :func:`stancekit.infer.openvino.quantize_openvino`.

        Loading is safe by default: weights are read from safetensors files only, and checked against the
        SHA-256 hashes in the folder's ``stancekit.json`` when it has them (``WeightsIntegrityError`` on a
        mismatch); code shipped with a model never runs unless ``trust_remote_code=True``; a folder whose
        weights exist only as pickle (``pytorch_model.bin``), which can run code when loaded, is refused
        with ``UnsafeModelError`` unless ``allow_pickle=True``.
        """
        path = Path(path).expanduser()
        if not (path / "config.json").exists():
            raise NotAStanceModelError(f"{path}: no config.json, so not a saved model folder")
        safetensors_only = use_safetensors(path, allow_pickle)
        verify_weights(path)
        config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
        check_stance_config(getattr(config, "id2label", None), str(path))
        # Options checked before any loading, as their fix is the caller's. A converted backend's precision is
        # resolved now: OpenVINO compiles for it (the classifier resolves it again, to the same).
        check_calibration(path, backend, calibration_pairs)
        converted = check_backend(backend) != "torch"
        resolved = resolve_inference_precision(precision, backend, torch.device("cpu")) if converted else precision
        model = None
        if not converted or needs_pytorch_model(path, backend):  # converting needs it once
            model = AutoModelForSequenceClassification.from_pretrained(
                path, trust_remote_code=trust_remote_code, use_safetensors=safetensors_only
            )
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
        if converted:
            openvino = backend.startswith("openvino")
            load, extra = (load_openvino_model, {"precision": resolved}) if openvino else (load_onnx_model, {})
            model = load(
                path,
                backend,
                config,
                model=model,
                tokenizer=tokenizer,
                num_threads=num_threads or default_num_threads(),
                calibration_pairs=calibration_pairs,
                **extra,
            )
        temperature = float(read_metadata(path).get("temperature", 1.0)) if calibrated else 1.0
        return cls(
            model,
            tokenizer,
            device=device,
            batch_size=batch_size,
            max_length=max_length,
            temperature=temperature,
            num_threads=num_threads,
            precision=precision,
            pad_to_multiple_of=pad_to_multiple_of,
            torch_compile=torch_compile,
        )

    @torch.inference_mode()
    def predict_logits(
        self, pairs: Sequence[Pair], batch_size: int | None = None, allow_empty_premise: bool = False
    ) -> np.ndarray:
        """Raw logits, shape ``(len(pairs), 3)``, columns in :attr:`labels` order, rows in input order."""
        # An empty premise is an error for users, but the capability suite probes it on purpose.
        pairs = _check_pairs(pairs, allow_empty_premise)
        batch_size = batch_size or self.batch_size
        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        truncated = 0
        # Chunks bound the memory: the token lists of 100k pairs as Python objects would take hundreds of MB,
        # while the logits (n x 3) are all a caller keeps. A chunk is large enough that sorting it by length
        # leaves as little padding as sorting everything.
        for start in range(0, len(pairs), self.chunk_size):
            chunk = pairs[start : start + self.chunk_size]
            truncated += self._fill_chunk(out[start : start + len(chunk)], chunk, batch_size)
        warn_truncated(truncated, len(pairs), self.max_length)  # counted and reported, never silent
        return out

    @torch.inference_mode()
    def warm_up(self, pairs: Sequence[Pair] = WARM_UP_PAIRS) -> float:
        """Run one pair, then all of ``pairs``, in each precision a call may use (bf16-checked: bf16 and fp32), so
        a compiled model's graphs (one per precision; a batch of one apart) and the kernels are built before the
        first real call (a server's first request); returns the seconds taken."""
        started, pairs = time.perf_counter(), _check_pairs(pairs)
        for group in (pairs[:1], pairs):
            enc, order, _ = self._encode_sorted(group)
            for bf16 in {"bf16-checked": (True, False), "bf16": (True,)}.get(self.precision, (False,)):
                self._fill_logits(np.zeros((len(group), len(LABELS)), np.float32), enc, order, self.batch_size, bf16)
        return time.perf_counter() - started

    def _encode_sorted(self, pairs: list[Pair]) -> tuple[dict[str, list], np.ndarray, int]:
        """``pairs`` tokenised, their indices by token length, and how many were truncated."""
        # One tokenizer call (the fast tokenizer works through the list in Rust), then batches by token
        # length: a batch of similar lengths pads little. The stable sort keeps ties in input order.
        enc, truncated = encode_pairs_counted(
            self.tokenizer, [p for p, _ in pairs], [h for _, h in pairs], self.max_length
        )
        return enc, np.argsort([len(ids) for ids in enc["input_ids"]], kind="stable"), truncated

    def _fill_chunk(self, out: np.ndarray, pairs: list[Pair], batch_size: int) -> int:
        """The logits of ``pairs`` into ``out`` (a view, same rows); returns how many were truncated."""
        enc, order, truncated = self._encode_sorted(pairs)
        if self.precision == "bf16-checked":
            self._fill_checked(out, enc, order, batch_size)
        else:
            self._fill_logits(out, enc, order, batch_size, bf16=self.precision == "bf16")
        return truncated

    def _fill_checked(self, out: np.ndarray, enc: dict[str, list], order: np.ndarray, batch_size: int) -> None:
        """bf16 for every batch, then fp32 for the close calls; fp32 throughout once close calls dominate."""
        to_recheck, n_close, n_bf16 = [], 0, 0
        for idx in self._batches(enc, order, batch_size):
            if switch_to_fp32(n_close, n_bf16):
                self._fill_logits(out, enc, idx, batch_size, bf16=False)
                continue
            self._fill_logits(out, enc, idx, batch_size, bf16=True)
            # Only a pair whose two best logits are close can change label under bf16's rounding.
            close = idx[close_calls(out[idx], self.recheck_margin)]
            to_recheck.append(close)
            n_close, n_bf16 = n_close + len(close), n_bf16 + len(idx)
        if n_close:  # recomputed in fp32, still in length order (batches were taken in that order)
            self._fill_logits(out, enc, np.concatenate(to_recheck), batch_size, bf16=False)

    def _fill_logits(
        self, out: np.ndarray, enc: dict[str, list], order: np.ndarray, batch_size: int, bf16: bool
    ) -> None:
        """Write the logits of the pairs ``order`` lists (length-sorted) into their rows of ``out``."""
        # Autocast runs the matrix products in bf16 and keeps softmax, layer norm and the logits in fp32.
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16 and self.backend == "torch"):
            for idx in self._batches(enc, order, batch_size):
                features = {k: [v[i] for i in idx] for k, v in enc.items()}
                length = self._padded_length(max(len(ids) for ids in features["input_ids"]))
                batch = self.tokenizer.pad(features, padding="max_length", max_length=length, return_tensors="np")
                out[idx] = self._batch_logits(batch, bf16)

    def _batches(self, enc: dict[str, list], order: np.ndarray, batch_size: int) -> list[np.ndarray]:
        """``order`` (length-sorted pair indices) cut into consecutive batches (:func:`.batching.cut_batches`)."""
        lengths = [self._padded_length(len(enc["input_ids"][i])) for i in order]
        bounds = cut_batches(lengths, batch_size, self.pass_overhead_tokens, self.max_batch_tokens)
        return [order[a:b] for a, b in bounds]

    def _padded_length(self, longest: int) -> int:
        return padded_length(longest, self.pad_to_multiple_of, self.max_length)

    def _batch_logits(self, batch: dict[str, np.ndarray], bf16: bool = False) -> np.ndarray:
        """Logits of one padded batch from whichever backend holds the model (bf16: at bf16 precision)."""
        if self.backend != "torch":
            return self.model.logits(batch, bf16=bf16)
        tensors = {k: torch.from_numpy(v).to(self.device) for k, v in batch.items()}
        model = self._bf16_twin.get() if bf16 and self.bf16_weight_copy and self._bf16_twin else self.model
        return model(**tensors).logits.float().cpu().numpy()

    def predict_proba(
        self, pairs: Sequence[Pair], batch_size: int | None = None, allow_empty_premise: bool = False
    ) -> np.ndarray:
        """Calibrated probabilities, shape ``(len(pairs), 3)``; column ``j`` is the probability of ``labels[j]``."""
        logits = self.predict_logits(pairs, batch_size, allow_empty_premise)
        return _softmax(logits / self.temperature)

    def predict(self, pairs: Sequence[Pair], batch_size: int | None = None) -> list[str]:
        """The most probable label name for each pair, in input order."""
        probs = self.predict_proba(pairs, batch_size)
        return [ID2LABEL[int(i)] for i in probs.argmax(axis=1)]

    def classify(
        self, pairs: Sequence[Pair], min_confidence: float = 0.0, batch_size: int | None = None
    ) -> list[Prediction]:
        """Label, confidence and probabilities per pair; below ``min_confidence`` a pair is flagged as abstained.

        Abstentions are kept (in input order, with their best label), so callers can route them to a person.
        """
        probs = self.predict_proba(pairs, batch_size)
        out = []
        for row in probs:
            best = int(row.argmax())
            out.append(
                Prediction(
                    label=ID2LABEL[best],
                    confidence=float(row[best]),
                    probabilities={lab: float(p) for lab, p in zip(LABELS, row)},
                    abstained=bool(row[best] < min_confidence),
                )
            )
        return out

    def predict_document(self, claim: str, document: str, config: object = None, **options) -> DocumentResult:
        """Stance of a whole document (a news article) towards ``claim``, with the evidence sentences.

        The document is split into sentences (pySBD); the claim is scored against every sentence and window
        of neighbouring sentences in one batched call, and the scores are aggregated (``max_evidence`` by
        default: the strongest supporting or contradicting unit decides if it reaches ``threshold``). Returns
        ``label``, ``probabilities`` and ``evidence`` (text, label, score, start, end: character offsets into
        ``document``). Options are :class:`stancekit.config.DocumentConfig` fields, e.g. ``aggregation="mean"``,
        ``window_sizes=[1]``; see :mod:`stancekit.document.aggregate`.
        """
        return predict_documents(self.predict_proba, [(claim, document)], config, **options)[0]

    def predict_documents(
        self, items: Sequence[tuple[str, str]], config: object = None, progress: bool = False, **options
    ) -> list[DocumentResult]:
        """:meth:`predict_document` for many ``(claim, document)`` items, their units scored in shared batches."""
        return predict_documents(self.predict_proba, items, config, progress=progress, **options)


def _check_pairs(pairs: Iterable[Pair], allow_empty_premise: bool = False) -> list[Pair]:
    """The pairs as a list, or a ``ValueError`` naming the first bad pair (by index) and its field."""
    if (
        pairs is None
        or isinstance(pairs, (str, bytes))
        or (isinstance(pairs, tuple) and len(pairs) == 2 and all(isinstance(x, str) for x in pairs))
    ):
        raise ValueError(
            f"expected a list of (premise, hypothesis) pairs, e.g. [(evidence, claim)], got {type(pairs).__name__} "
            f"{pairs!r:.80}"
        )
    checked = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"pair {i}: expected (premise, hypothesis), got {pair!r:.200}")
        for j, name in enumerate(("premise", "hypothesis")):
            if not isinstance(pair[j], str):
                raise ValueError(f"pair {i}, {name}: expected text, got {type(pair[j]).__name__} {pair[j]!r:.80}")
            if not pair[j].strip() and not (allow_empty_premise and j == 0):
                raise ValueError(f"pair {i}, {name}: empty text")
        checked.append((pair[0], pair[1]))
    return checked


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)
