"""Document-level stance (issue #5): sentences with exact offsets, aggregation, evidence, the mode=document
scripts, the FNC-1 score and the fnc1 experiment.

The aggregation is tested with deterministic stub scorers injected through the public interface (a callable,
an object with ``predict_proba``, and a StanceClassifier whose ``predict_proba`` is replaced); the wiring with
a real model uses a tiny random BERT with our three labels.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset

from conftest import FIXTURE_ROOT, compose_config, tiny_train_overrides
from stancekit import LABELS, StanceClassifier
from stancekit.cli import CONFIG_DIR, PROJECT_ROOT
from stancekit.config import ModelConfig
from stancekit.data import DataError, Splits
from stancekit.data.splits import FEATURES
from stancekit.document import (
    apply_document_input,
    predict_document,
    predict_documents,
    predict_documents_file,
    resolve_options,
    select_sentences,
    split_sentences,
)
from stancekit.fnc import (
    evaluate_documents,
    fnc_metrics,
    fnc_score,
    lexical_relatedness,
    to_fnc_labels,
)
from stancekit.modeling import build_model, load_tokenizer

CLAIM = "Putin would not oppose European peacekeepers in Ukraine."
DECISIVE = 'Lavrov ruled out such a proposal, and the Kremlin said it had "nothing to add".'
NEUTRAL_P = np.array([0.1, 0.1, 0.8])


def filler(paragraph: int, n: int = 8) -> str:
    """A paragraph of distinct, neutral sentences (about 12 words each)."""
    return " ".join(
        f"Paragraph {paragraph} sentence {i} describes the weather, the traffic and the markets in some detail."
        for i in range(n)
    )


def long_article() -> str:
    """Seven paragraphs (~680 words); the contradicting sentence opens the last one, past word 512."""
    paragraphs = [filler(p) for p in range(6)]
    paragraphs.append(DECISIVE + " " + filler(6, 2))
    return "\n\n".join(paragraphs)


class MarkerModel:
    """A classifier-like stub: contradict if the premise says "ruled out", support if it says "confirmed".

    ``max_words`` imitates a transformer's input limit: it only reads the premise's first words.
    """

    def __init__(self, max_words: int | None = None):
        self.max_words = max_words
        self.calls = 0

    def predict_proba(self, pairs):
        self.calls += 1
        out = []
        for premise, _claim in pairs:
            text = " ".join(premise.split()[: self.max_words]) if self.max_words else premise
            if "ruled out" in text:
                out.append([0.03, 0.94, 0.03])
            elif "confirmed" in text:
                out.append([0.9, 0.02, 0.08])
            else:
                out.append(NEUTRAL_P)
        return np.array(out, dtype=float)


def table_scorer(table: dict[str, list[float]]):
    """A stub callable: each unit gets the probabilities of the first key it contains, else NEUTRAL_P."""

    def predict_proba(pairs):
        return np.array([next((table[k] for k in table if k in p), NEUTRAL_P) for p, _ in pairs], dtype=float)

    return predict_proba


@pytest.fixture(scope="module")
def stance_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny random BERT with a fresh 3-way head and our labels: a (random) stance model folder."""
    folder = tmp_path_factory.mktemp("tiny-stance")
    cfg = ModelConfig(name_or_path=str(tiny_model_dir))
    build_model(cfg).save_pretrained(folder)
    load_tokenizer(cfg).save_pretrained(folder)
    return folder


# ------------------------------------------------------------------------------------------- sentences
def test_sentence_offsets_are_exact_and_cover_the_text():
    document = (
        '  Dr. Smith arrived at 3 p.m. on Monday.  He said: "No comment."\n\nThe U.S. economy grew 3.2% in Q1.\n'
        "A line without a full stop\nThe same sentence. The same sentence. Ünïcode — dashes… and more!\n\n\n"
    )
    sentences = split_sentences(document)
    assert len(sentences) >= 6
    for s in sentences:
        assert document[s.start : s.end] == s.text and s.text == s.text.strip()
    assert all(a.end <= b.start for a, b in zip(sentences, sentences[1:]))
    # Every non-blank character belongs to a sentence: nothing is dropped.
    covered = "".join(s.text for s in sentences)
    assert "".join(document.split()) == "".join(covered.split())
    repeated = [s for s in sentences if s.text == "The same sentence."]
    assert len(repeated) == 2 and repeated[0].start != repeated[1].start
    assert "Dr. Smith arrived at 3 p.m. on Monday." in [s.text for s in sentences]


# ------------------------------------------------------------------------------------------- the test
def test_contradicting_sentence_past_token_512_is_found_with_its_offsets():
    document = long_article()
    start = document.index(DECISIVE)
    assert len(document[:start].split()) > 512  # each word is at least one token: well past a 512-token window
    truncated = predict_document(MarkerModel(max_words=512), CLAIM, document, input="truncated")
    assert truncated.label == "neutral", "a model reading only the first 512 words misses it"
    # Selecting the sentences that share the claim's words brings it back into the window.
    selected = predict_document(
        MarkerModel(max_words=512), "Kremlin and Lavrov on the proposal", document, input="selected_sentences"
    )
    assert selected.label == "contradict" and selected.evidence == []

    result = predict_document(MarkerModel(max_words=512), CLAIM, document)
    assert result.label == "contradict"
    assert max(result.probabilities, key=result.probabilities.get) == "contradict"
    assert abs(sum(result.probabilities.values()) - 1) < 1e-9
    top = result.contradicting[0]
    assert top.text == DECISIVE and (top.start, top.end) == (start, start + len(DECISIVE))
    assert document[top.start : top.end] == top.text and top.score == pytest.approx(0.94)
    # The window holding the same sentence overlaps it, so it is not repeated as evidence.
    assert len(result.contradicting) == 1 and result.supporting == []
    assert result.n_sentences == len(split_sentences(document)) > 40


def test_through_stance_classifier_with_a_stub_predict_proba(stance_model_dir):
    clf = StanceClassifier.from_pretrained(stance_model_dir, device="cpu")
    stub = MarkerModel()
    clf.predict_proba = stub.predict_proba  # the public method predict_document must go through
    document = long_article()
    result = clf.predict_document(CLAIM, document)
    assert result.label == "contradict" and result.evidence[0].text == DECISIVE
    assert stub.calls == 1, "all sentences and windows of a document are scored in one batched call"
    assert [r.label for r in clf.predict_documents([(CLAIM, document), (CLAIM, filler(0))])] == [
        "contradict",
        "neutral",
    ]


def test_tiny_model_results_are_consistent_and_batched_equals_single(stance_model_dir):
    clf = StanceClassifier.from_pretrained(stance_model_dir, device="cpu")
    items = [(CLAIM, long_article()), ("The bridge reopens in May.", "The bridge will reopen in May. Officials agree.")]
    batched = clf.predict_documents(items, evidence_k=2)
    for (claim, document), result in zip(items, batched):
        single = clf.predict_document(claim, document, evidence_k=2)
        assert single.label == result.label and single.label in LABELS
        assert single.probabilities == pytest.approx(result.probabilities, abs=1e-5)
        assert [(e.start, e.end, e.label) for e in single.evidence] == [
            (e.start, e.end, e.label) for e in result.evidence
        ]
        assert max(result.probabilities, key=result.probabilities.get) == result.label
        for e in result.evidence:
            assert document[e.start : e.end] == e.text and e.score >= 0.5 and len(result.evidence) <= 4


# ------------------------------------------------------------------------------------------- aggregation
def test_batched_equals_single_calls_across_chunks():
    model = MarkerModel()
    items = [
        (CLAIM, long_article()),
        ("The deal was signed.", "Officials confirmed the deal was signed. Markets rose."),
        ("The deal was signed.", "Nothing happened today."),
        (CLAIM, "One sentence that ruled out everything"),
        ("The deal was signed.", "Officials confirmed it. Later they ruled out a second deal."),
    ]
    batched = predict_documents(model, items, chunk_size=2)
    assert model.calls == 3
    singles = [predict_document(model, c, d) for c, d in items]
    assert [r.to_dict() for r in batched] == [r.to_dict() for r in singles]
    assert [r.label for r in batched] == ["contradict", "support", "neutral", "contradict", "contradict"]
    # Two strong opposite pieces of evidence: both are returned, and the probabilities show the near tie.
    mixed = batched[4]
    assert {e.label for e in mixed.evidence} == {"support", "contradict"}
    assert mixed.probabilities["support"] == pytest.approx(0.9 / (0.9 + 0.94 + 0.06))


def test_threshold_and_aggregation_rules():
    document = "The plan was weak. The minister doubted it. Many others spoke. Nobody voted."
    scorer = table_scorer({"doubted": [0.05, 0.45, 0.50], "weak": [0.1, 0.42, 0.48]})
    claim = "The plan will pass."
    assert predict_document(scorer, claim, document, window_sizes=[1]).label == "neutral"
    low = predict_document(scorer, claim, document, window_sizes=[1], threshold=0.4)
    assert low.label == "contradict" and [e.text for e in low.evidence] == [
        "The minister doubted it.",
        "The plan was weak.",
    ]
    one = predict_document(scorer, claim, document, window_sizes=[1], threshold=0.4, evidence_k=1)
    assert [e.text for e in one.evidence] == ["The minister doubted it."]
    # top_k_mean with k=3 averages in a neutral sentence; mean averages over all four.
    top3 = predict_document(scorer, claim, document, window_sizes=[1], threshold=0.4, aggregation="top_k_mean")
    assert top3.label == "neutral"
    top2 = predict_document(scorer, claim, document, window_sizes=[1], threshold=0.4, aggregation="top_k_mean", top_k=2)
    assert top2.label == "contradict"
    mean = predict_document(scorer, claim, document, window_sizes=[1], aggregation="mean")
    expected = (np.array([0.05, 0.45, 0.50]) + np.array([0.1, 0.42, 0.48]) + 2 * NEUTRAL_P) / 4
    assert [mean.probabilities[lab] for lab in LABELS] == pytest.approx(expected)
    assert mean.label == "neutral"


def test_probabilities_always_agree_with_the_label():
    rng = np.random.default_rng(0)
    sentences = [f"Sentence number {i} is here." for i in range(6)]
    document = " ".join(sentences)
    for trial in range(40):
        probs = rng.dirichlet(np.ones(3), size=len(sentences))
        scorer = table_scorer({s: list(p) for s, p in zip(sentences, probs)})
        threshold = float(rng.uniform(0.2, 0.8))
        for aggregation in ("max_evidence", "top_k_mean", "mean"):
            r = predict_document(
                scorer, "A claim.", document, window_sizes=[1], threshold=threshold, aggregation=aggregation
            )
            assert max(r.probabilities, key=r.probabilities.get) == r.label, (trial, aggregation)
            if aggregation == "max_evidence":
                strongest = max(probs[:, 0].max(), probs[:, 1].max())
                assert (r.label != "neutral") == (strongest >= threshold)


def test_windows_and_short_documents():
    scorer = table_scorer({})
    result = predict_document(scorer, "A claim.", "Just one sentence here.", window_sizes=[2, 3])
    assert result.n_units == 1 and result.n_sentences == 1 and result.label == "neutral"
    three = predict_document(scorer, "A claim.", "One. Two. Three.", window_sizes=[1, 2])
    assert three.n_units == 3 + 2


def test_bad_input_and_options_are_rejected_clearly():
    scorer = table_scorer({})
    with pytest.raises(ValueError, match="item 0, document: empty text"):
        predict_document(scorer, "A claim.", "   ")
    with pytest.raises(ValueError, match="item 1, claim"):
        predict_documents(scorer, [("A claim.", "Text."), (None, "Text.")])
    with pytest.raises(TypeError, match="unknown document option"):
        predict_document(scorer, "A claim.", "Text.", windows=[1])
    with pytest.raises(ValueError, match="document.aggregation"):
        predict_document(scorer, "A claim.", "Text.", aggregation="vote")
    with pytest.raises(ValueError, match="document.threshold"):
        predict_document(scorer, "A claim.", "Text.", threshold=1.0)
    with pytest.raises(ValueError, match="not logits"):
        predict_document(lambda pairs: np.full((len(pairs), 3), 2.0), "A claim.", "Text.")
    with pytest.raises(ValueError, match="shape"):
        predict_document(lambda pairs: np.zeros((1, 2)), "A claim.", "Text.")


# ------------------------------------------------------------------------------------------- selection
def test_selected_sentences_are_the_most_similar_in_document_order():
    document = long_article()
    chosen = select_sentences("Lavrov and the Kremlin on the peacekeepers proposal", document, 3)
    assert len(chosen) == 3 and DECISIVE in [s.text for s in chosen]
    assert [s.start for s in chosen] == sorted(s.start for s in chosen)
    assert select_sentences("anything", "Only one. And two.", 5) == list(split_sentences("Only one. And two."))

    pair = {"id": "a", "premise": document, "hypothesis": "Lavrov ruled out the proposal", "label": 1, "source": "t"}
    short = {"id": "b", "premise": "A short premise.", "hypothesis": "A claim.", "label": 2, "source": "t"}
    splits = Splits(train=Dataset.from_list([pair, short], features=FEATURES), test={"t": Dataset.from_list([pair])})

    class Data:
        document_input = "selected_sentences"
        document_sentences = 2

    out = apply_document_input(splits, Data)
    assert DECISIVE in out.train[0]["premise"] and len(out.train[0]["premise"]) < 300
    assert out.train[1]["premise"] == "A short premise." and out.test["t"][0]["premise"] == out.train[0]["premise"]
    Data.document_input = "first_paragraph"
    with pytest.raises(ValueError, match="data.document_input"):
        apply_document_input(splits, Data)


# ------------------------------------------------------------------------------------------- FNC-1 scoring
def test_fnc_score_on_a_hand_computed_example():
    gold = ["agree", "disagree", "discuss", "unrelated", "unrelated", "agree"]
    pred = ["agree", "discuss", "discuss", "unrelated", "agree", "unrelated"]
    # 1.0 (exact related) + 0.25 (related, wrong label) + 1.0 + 0.25 (unrelated) + 0 + 0 = 2.5 of 4.5
    score = fnc_score(gold, pred)
    assert score == {"raw": 2.5, "max": 4.5, "percent": pytest.approx(100 * 2.5 / 4.5)}
    assert fnc_score(gold, gold)["percent"] == 100.0
    with pytest.raises(ValueError, match="not FNC-1 labels"):
        fnc_score(["agree"], ["support"])

    block = fnc_metrics(gold, pred, [0, 2, 2, 2, 0, 2])
    # agree: P 1/2, R 1/2; disagree: 0; discuss: P 1/2, R 1; unrelated: P 1/2, R 1/2
    f1 = {lab: b["f1"] for lab, b in block["per_class"].items()}
    assert f1 == pytest.approx({"agree": 0.5, "disagree": 0.0, "discuss": 2 / 3, "unrelated": 0.5})
    assert block["macro_f1"] == pytest.approx((0.5 + 0 + 2 / 3 + 0.5) / 4)
    assert block["relatedness"]["accuracy"] == pytest.approx(4 / 6)
    assert block["all_unrelated_percent"] == pytest.approx(100 * 0.5 / 4.5)
    # Related-only: gold agree/disagree/discuss/agree as support/contradict/neutral/support, ours 0,2,2,2.
    related = block["related_only"]
    assert related["n"] == 4 and related["accuracy"] == pytest.approx(2 / 4)
    assert block["confusion_matrix"]["matrix"][1] == [0, 0, 1, 0]


def test_unrelated_rules():
    ours = [0, 1, 2, 2]  # support, contradict, neutral, neutral
    assert to_fnc_labels(ours, None, "neutral", 0.07) == ["agree", "disagree", "unrelated", "unrelated"]
    assert to_fnc_labels(ours, [0.5, 0.01, 0.3, 0.0], "lexical", 0.07) == [
        "agree",
        "unrelated",
        "discuss",
        "unrelated",
    ]
    with pytest.raises(ValueError, match="unrelated_rule"):
        to_fnc_labels(ours, None, "oracle", 0.07)
    scores = lexical_relatedness(
        ["Bridge to reopen in May", "Bridge to reopen in May"],
        ["The bridge will reopen in May, officials said.", "A comet was seen over the hills."],
    )
    assert scores[0] > 0.3 and scores[1] == 0.0


def test_evaluate_mode_document_on_the_fnc1_fixture(stance_model_dir, tmp_path):
    cfg = compose_config(
        "evaluate",
        [
            f"model_dir={stance_model_dir}",
            "mode=document",
            "data=fnc1",
            f"paths.data_root={FIXTURE_ROOT}",
            f"paths.output_dir={tmp_path}",
            "device=cpu",
        ],
    )
    metrics = evaluate_documents(cfg)
    block = metrics["fnc"]
    assert block["n"] == 4 and block["score"]["max"] == 3.25
    records = [json.loads(line) for line in (tmp_path / "documents.jsonl").read_text().splitlines()]
    assert [r["fnc_gold"] for r in records] == ["agree", "disagree", "discuss", "unrelated"]
    assert block["score"] == fnc_score([r["fnc_gold"] for r in records], [r["fnc_prediction"] for r in records])
    assert [r["gold"] for r in records] == ["support", "contradict", "neutral", "neutral"]
    # The unrelated body shares no word with the headline: the lexical rule calls it unrelated.
    assert records[3]["relatedness"] == 0.0 and records[3]["fnc_prediction"] == "unrelated"
    # ... so the relatedness gate (on by default) never sent it to the model.
    assert [r["gated"] for r in records] == [r["relatedness"] < 0.07 for r in records]
    assert records[0]["gated"] is False and records[3]["gated"] is True
    assert records[3]["label"] == "neutral" and records[3]["evidence"] == []
    predictions = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert [p["prediction"] for p in predictions] == [r["label"] for r in records]
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["fnc"]["score"] == block["score"] and on_disk["n"] == 4
    report = (tmp_path / "report.md").read_text()
    assert "## FNC-1 view (four labels)" in report and "fnc1_competition_test" in report
    assert block["gated"] == sum(r["gated"] for r in records) and "Relatedness gate" in report

    cfg.data.document_input = "selected_sentences"
    with pytest.raises(ValueError, match="document.input"):
        evaluate_documents(cfg)


def test_relatedness_gate_keeps_unrelated_pairs_from_the_model():
    from stancekit.fnc import _DocumentLogits

    seen: list[tuple[str, str]] = []

    def scorer(pairs):
        seen.extend(pairs)
        return np.tile([0.8, 0.1, 0.1], (len(pairs), 1))  # everything "supports"

    body = "The ministry said the bridge will reopen in May. Traffic will resume."
    pairs = [(body, "Bridge to reopen in May"), ("A comet was seen over the hills.", "Bridge to reopen in May")]
    gated = _DocumentLogits(scorer, resolve_options(), gate=0.07)
    logits = gated(pairs)
    assert {claim for _, claim in seen} == {"Bridge to reopen in May"} and all("comet" not in p for p, _ in seen)
    assert gated.gated == [{1}] and gated.calls[0][1].label == "neutral" and gated.calls[0][0].label == "support"
    assert np.argmax(logits, axis=1).tolist() == [LABELS.index("support"), LABELS.index("neutral")]
    seen.clear()
    ungated = _DocumentLogits(scorer, resolve_options(), gate=None)
    ungated(pairs)
    assert any("comet" in p for p, _ in seen) and ungated.gated == [set()]


# ------------------------------------------------------------------------------------------- scripts
def test_predict_mode_document_cli(stance_model_dir, tmp_path):
    inp = tmp_path / "articles.jsonl"
    rows = [
        {"id": 1, "claim": CLAIM, "document": long_article()},
        {"id": 2, "headline": "Bridge to reopen in May", "body": "The ministry said the bridge will reopen in May."},
    ]
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out" / "labelled.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "scripts/predict.py",
            "mode=document",
            f"model_dir={stance_model_dir}",
            f"input={inp}",
            f"output={out}",
            "device=cpu",
            "document.evidence_k=1",
            f"hydra.run.dir={tmp_path / 'p'}",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "labelled 2 documents" in result.stdout
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [w["id"] for w in written] == [1, 2] and not out.with_name(out.name + ".tmp").exists()
    for row, w in zip(rows, written):
        document = row.get("document") or row["body"]
        assert w["prediction"] in LABELS and set(w["probabilities"]) == set(LABELS)
        assert len(w["evidence"]) <= 2 and w["n_sentences"] == len(split_sentences(document))
        for e in w["evidence"]:
            assert document[e["start"] : e["end"]] == e["text"] and e["label"] in ("support", "contradict")


def test_predict_mode_document_errors_name_file_line_and_field(stance_model_dir, tmp_path):
    inp = tmp_path / "bad.jsonl"
    inp.write_text(json.dumps({"claim": "A", "document": "B."}) + "\n" + json.dumps({"document": "No claim."}) + "\n")
    overrides = [f"model_dir={stance_model_dir}", f"input={inp}", f"output={tmp_path / 'o.jsonl'}"]
    cfg = compose_config("predict", [*overrides, "mode=document", f"paths.output_dir={tmp_path}"])
    with pytest.raises(DataError) as err:
        predict_documents_file(cfg)
    assert err.value.line == 2 and err.value.field == "claim" and str(inp) in str(err.value)
    assert "'headline'" in str(err.value)
    inp.write_text(json.dumps({"headline": "A", "body": ""}) + "\n")
    with pytest.raises(DataError, match="line 1, field 'body'"):
        predict_documents_file(cfg)
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("option", sorted(p.stem for p in (Path(CONFIG_DIR) / "document").glob("*.yaml")))
def test_document_configs_compose(option):
    for name, overrides in [
        ("evaluate", ["model_dir=/m", "data=fnc1", "mode=document"]),
        ("predict", ["model_dir=/m", "input=i.jsonl", "output=o.jsonl", "mode=document"]),
    ]:
        cfg = compose_config(name, [*overrides, f"document={option}", "paths.output_dir=/tmp/x"])
        assert cfg.document.input in ("sentences", "truncated", "selected_sentences")


# ------------------------------------------------------------------------------------------- training
def test_fnc1_experiment_trains_on_selected_sentences(tiny_model_dir, tmp_path):
    from stancekit.training import train

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
    metrics = train(cfg)
    assert metrics["n"] == 4
    premises = [json.loads(line)["premise"] for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    # Body 10 has two sentences; with one selected, the test premise is the sentence that matches the headline.
    assert premises[0] == "The ministry said on Tuesday that the bridge will reopen in May."
