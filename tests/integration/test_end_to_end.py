"""A tiny model trained end to end: the run folder, labels inside the model, plain transformers, the scripts and
multirun."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

from stancekit import StanceClassifier
from stancekit.config import PROJECT_ROOT
from stancekit.labels import LABELS
from stancekit.models import encode_pairs
from stancekit.version import source_commit
from tests.helpers import FIXTURE_ROOT, SAMPLE_DIR, compose_config, run_script, tiny_train_overrides

PAIRS = [
    ("The council approved the new budget on Monday.", "The budget was rejected."),
    ("Officials said the bridge will reopen in May after repairs.", "The bridge reopens in May."),
    ("The company reported higher profits.", "The chief executive plans to resign."),
]


def test_run_folder_has_everything(trained_run):
    run_dir, result = trained_run
    for name in [
        "metrics.json",
        "report.md",
        "confusion_matrix.png",
        "predictions.jsonl",
        "config.yaml",
        "data_summary.md",
        "train_summary.json",
        "model/config.json",
        "model/model.safetensors",
        "model/tokenizer.json",
        "model/README.md",
    ]:
        assert (run_dir / name).exists(), name
    assert not (run_dir / "model" / "training_args.bin").exists(), "no pickle in a model folder"
    assert not (run_dir / "model.tmp").exists()
    on_disk = json.loads((run_dir / "metrics.json").read_text())
    # One shape for one set or many: {"sets": {name: block}, "capabilities": {...}}, and the commit it ran at.
    recorded = {"commit": source_commit()} if source_commit() else {}
    assert set(on_disk) == {"sets", "capabilities", *recorded} and list(on_disk["sets"]) == ["sample"]
    block = on_disk["sets"]["sample"]
    assert block["n"] == 60 and 0 <= block["accuracy"] <= 1 and 0 <= block["macro_f1"] <= 1
    assert on_disk == {"sets": result.test, "capabilities": result.capabilities, **recorded}
    assert result.run_dir == run_dir and result.model_dir == run_dir / "model"
    assert result.objective == json.loads((run_dir / "train_summary.json").read_text())["validation"]["eval_macro_f1"]
    assert set(block["per_label"]) == set(LABELS)
    assert sum(map(sum, block["confusion_matrix"]["matrix"])) == 60
    report = (run_dir / "report.md").read_text()
    assert "| sample | 60 |" in report and "confusion_matrix.png" in report
    card = (run_dir / "model" / "README.md").read_text()
    assert "Training data" in card and "sample" in card


def test_labels_travel_inside_the_model(trained_run):
    run_dir, _ = trained_run
    config = json.loads((run_dir / "model" / "config.json").read_text())
    assert config["id2label"] == {"0": "support", "1": "contradict", "2": "neutral"}
    assert config["label2id"] == {"support": 0, "contradict": 1, "neutral": 2}


def test_wrapper_and_plain_transformers_agree(trained_run):
    run_dir, _ = trained_run
    model_dir = run_dir / "model"
    clf = StanceClassifier.from_pretrained(model_dir, device="cpu")
    ours = clf.predict(PAIRS)
    probs = clf.predict_proba(PAIRS)
    assert probs.shape == (3, 3) and all(abs(row.sum() - 1) < 1e-5 for row in probs)
    assert set(ours) <= set(LABELS)

    # Plain transformers, pair by pair, no stancekit code involved.
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    plain = []
    with torch.no_grad():
        for premise, hypothesis in PAIRS:
            logits = model(**tokenizer(premise, hypothesis, return_tensors="pt")).logits
            plain.append(model.config.id2label[int(logits.argmax())])
    assert plain == ours

    pipe = pipeline("text-classification", model=str(model_dir), device="cpu")
    piped = [pipe({"text": p, "text_pair": h})["label"] for p, h in PAIRS]
    assert piped == ours
    # Same raw probabilities too, not only the same argmax (the stored temperature is stancekit's own
    # addition: plain transformers ignores it, and scaling never changes the argmax).
    raw = StanceClassifier.from_pretrained(model_dir, device="cpu", calibrated=False).predict_proba(PAIRS[:1])[0]
    scores = pipe({"text": PAIRS[0][0], "text_pair": PAIRS[0][1]}, top_k=None)
    by_label = {s["label"]: s["score"] for s in scores}
    assert [by_label[lab] for lab in LABELS] == pytest.approx(list(raw), abs=1e-4)
    assert clf.temperature == pytest.approx(json.loads((model_dir / "stancekit.json").read_text())["temperature"])


def test_predictions_come_back_in_input_order(trained_run):
    run_dir, _ = trained_run
    clf = StanceClassifier.from_pretrained(run_dir / "model", device="cpu", batch_size=2)
    pairs = PAIRS + [(PAIRS[0][0] * 5, PAIRS[0][1])]
    one_by_one = [clf.predict_proba([pair])[0] for pair in pairs]
    batched = clf.predict_proba(pairs)
    for a, b in zip(one_by_one, batched):
        assert a == pytest.approx(b, abs=1e-5)


def test_long_inputs_are_truncated_premise_first(trained_run):
    run_dir, _ = trained_run
    clf = StanceClassifier.from_pretrained(run_dir / "model", device="cpu", max_length=32)
    long_premise = "the council met again on monday . " * 200
    ids = encode_pairs(clf.tokenizer, [long_premise], ["the budget was approved"], 32)["input_ids"][0]
    tokens = clf.tokenizer.convert_ids_to_tokens(ids)
    assert len(tokens) == 32
    # The whole claim survives; the premise was cut.
    assert tokens[-6:] == ["[SEP]", "the", "budget", "was", "approved", "[SEP]"]
    assert clf.predict([(long_premise, "the budget was approved")])[0] in LABELS
    # A claim too long for premise-first truncation still works (falls back to cutting both).
    assert clf.predict([("short", long_premise)])[0] in LABELS


def test_bad_pairs_are_rejected_clearly(trained_run):
    run_dir, _ = trained_run
    clf = StanceClassifier.from_pretrained(run_dir / "model", device="cpu")
    with pytest.raises(ValueError, match="pair 1, hypothesis: empty text"):
        clf.predict([("a", "b"), ("a", " ")])
    with pytest.raises(ValueError, match=r"pair 0: expected \(premise, hypothesis\)"):
        clf.predict(["just one string"])
    assert clf.predict([]) == []


def test_scripts_run_from_the_command_line(tiny_model_dir, tmp_path):
    """The thin Hydra wrappers: train, then evaluate and predict with what it saved."""
    run_dir = tmp_path / "cli-run"
    overrides = [o for o in tiny_train_overrides(tiny_model_dir, run_dir) if not o.startswith("paths.output_dir")]
    result = run_script("train", f"hydra.run.dir={run_dir}", *overrides)
    assert "macro-F1" in result.stdout and f"{run_dir}/model" in result.stdout
    assert (run_dir / ".hydra" / "config.yaml").exists() and (run_dir / "model" / "model.safetensors").exists()

    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"premise": PAIRS[0][0], "hypothesis": PAIRS[0][1]}) + "\n")
    model = f"model_dir={run_dir}/model"
    run_script("predict", model, f"input={inp}", f"output={tmp_path / 'out.jsonl'}", f"hydra.run.dir={tmp_path / 'p'}")
    assert json.loads((tmp_path / "out.jsonl").read_text())["prediction"] in LABELS

    test_file = f"data.test_file={SAMPLE_DIR / 'test.jsonl'}"
    run_script("evaluate", model, "data=jsonl", test_file, f"hydra.run.dir={tmp_path / 'e'}")
    assert (tmp_path / "e" / "metrics.json").exists()


def test_multirun_sweep(tiny_model_dir, tmp_path):
    """`-m train.learning_rate=a,b` runs one training per value, each in its own folder."""
    overrides = [o for o in tiny_train_overrides(tiny_model_dir, tmp_path) if not o.startswith("paths.output_dir")]
    result = subprocess.run(
        [
            sys.executable,
            "scripts/train.py",
            "-m",
            "train.learning_rate=1e-4,5e-4",
            f"hydra.sweep.dir={tmp_path}",
            "run_test=false",
            *overrides,
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for job in ("0", "1"):
        assert (tmp_path / job / "model" / "model.safetensors").exists()
    lrs = [json.loads((tmp_path / job / "train_summary.json").read_text()) for job in ("0", "1")]
    assert all(r["global_step"] == 8 for r in lrs)
    assert "learning_rate: 0.0005" in (tmp_path / "1" / "config.yaml").read_text()


def test_fnc1_experiment_trains_on_selected_sentences(tiny_model_dir, tmp_path):
    from stancekit.train import train

    cfg = compose_config(
        "train",
        tiny_train_overrides(
            tiny_model_dir,
            tmp_path,
            [
                "experiment=fnc1",
                f"paths.data_root={FIXTURE_ROOT}",
                "train.max_steps=2",
                "data.document_input=selected_sentences",
                "data.document_sentences=1",
            ],
        ),
    )
    assert cfg.data.name == "fnc1" and "fnc1" in cfg.tags
    result = train(cfg)
    assert result.test["fnc1_competition_test"]["n"] == 4
    premises = [json.loads(line)["premise"] for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    # Body 10 has two sentences; with one selected, the test premise is the sentence that matches the headline.
    assert premises[0] == "The ministry said on Tuesday that the bridge will reopen in May."
