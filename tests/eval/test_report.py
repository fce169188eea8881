"""evaluate_sets: predict, score, write; one metrics shape whatever the number of sets; how a model fails
(most confident errors, scores by source)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import Dataset

from stancekit.data import FEATURES
from stancekit.eval.calibration import ece, fit_temperature, probabilities
from stancekit.eval.report import evaluate_sets, metrics_table, predict_sets, score_sets, write_results
from stancekit.labels import LABELS


def labelled(name: str, labels: list[int]) -> Dataset:
    rows = [
        {"id": f"{name}:{i}", "premise": f"premise {i}", "hypothesis": f"claim {i}", "label": lab, "source": name}
        for i, lab in enumerate(labels)
    ]
    return Dataset.from_list(rows, features=FEATURES)


def oracle_but_first(pairs):
    """Logits that are right for every pair but the first (label read back from the premise's index)."""
    out = np.zeros((len(pairs), 3))
    for row, (premise, _) in enumerate(pairs):
        i = int(premise.split()[-1])
        out[row, (GOLD[i] + (1 if i == 0 else 0)) % 3] = 4.0
    return out


GOLD = [0, 1, 2, 0, 1, 2]


def test_one_set_and_several_sets_have_the_same_shape(tmp_path):
    one = evaluate_sets(oracle_but_first, {"a": labelled("a", GOLD)}, tmp_path / "one", title="T")
    assert list(one) == ["a"] and one["a"]["n"] == 6 and one["a"]["accuracy"] == 5 / 6
    two = evaluate_sets(oracle_but_first, {"a": labelled("a", GOLD), "b": labelled("b", GOLD[:3])}, tmp_path / "two")
    assert list(two) == ["a", "b"] and two["a"] == one["a"]
    for folder, blocks in ((tmp_path / "one", one), (tmp_path / "two", two)):
        assert json.loads((folder / "metrics.json").read_text()) == {"sets": blocks}
        names = sorted(p.name for p in folder.iterdir())
        assert names == [
            "confusion_matrix.png",
            "coverage.png",
            "metrics.json",
            "predictions.jsonl",
            "reliability.png",
            "report.md",
        ]
    predictions = [json.loads(line) for line in (tmp_path / "two" / "predictions.jsonl").read_text().splitlines()]
    assert [p["set"] for p in predictions] == ["a"] * 6 + ["b"] * 3
    assert predictions[0]["gold"] == "support" and predictions[0]["prediction"] == "contradict"


def test_steps_apart_let_a_caller_add_before_the_single_write(tmp_path):
    sets = {"a": labelled("a", GOLD)}
    logits = predict_sets(oracle_but_first, sets)
    blocks = score_sets(logits, sets, temperature=2.0)
    assert blocks["a"]["temperature"] == 2.0 and blocks["a"]["ece"] != blocks["a"]["ece_before"]
    blocks["a"]["extra"] = {"score": 1}
    suite = {"negation": {"n": 2, "units": 2, "pass_rate": 0.5, "criterion": "c", "failures": []}}
    write_results(tmp_path, sets, logits, blocks, "Title", "context", 2.0, suite, sections=["## Added section"])
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["sets"]["a"]["extra"] == {"score": 1} and on_disk["capabilities"] == suite
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# Title\n\ncontext") and report.rstrip().endswith("## Added section")
    table = metrics_table(blocks, suite)
    assert "a" in table and "0.8333" in table and "capability negation" in table


def test_no_sets_still_write_one_shape(tmp_path):
    assert evaluate_sets(oracle_but_first, {}, tmp_path) == {}
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"sets": {}}


# ----------------------------------------------------------------------------------------- error analysis
# Each row's logits are one-hot times a scale, so its confidence is 1 / (1 + 2 exp(-scale / T)): rising with
# the scale at every temperature, which fixes the order of the errors whatever T is.
PREDICTED = [1, 1, 0, 2, 0, 2]  # against GOLD: rows 0, 2, 3, 4 wrong
SCALE = [3.0, 9.0, 1.0, 2.0, 3.0, 0.5]  # row 1 (right) is the most confident of all; rows 0 and 4 tie
ERROR_ORDER = ["a:0", "a:4", "a:3", "a:2"]  # by scale, the tie in data set order


def handmade(pairs):
    out = np.zeros((len(pairs), 3))
    for row, (premise, _) in enumerate(pairs):
        i = int(premise.split()[-1])
        out[row, PREDICTED[i]] = SCALE[i]
    return out


def confidence(scale: float, temperature: float) -> float:
    return 1.0 / (1.0 + 2.0 * np.exp(-scale / temperature))


def table_rows(report: str, heading: str) -> list[str]:
    """The lines of the first Markdown table after ``heading`` (header and rule included)."""
    lines = report.splitlines()
    start = lines.index(heading)
    first = next(i for i in range(start, len(lines)) if lines[i].startswith("|"))
    end = next((i for i in range(first, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[first:end]


def column_breaks(line: str) -> int:
    """Unescaped ``|`` in a table row (a backslash escapes the next character, as GFM reads it)."""
    count, i = 0, 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        count += line[i] == "|"
        i += 1
    return count


def test_most_confident_errors_in_order_and_only_errors(tmp_path):
    sets = {"a": labelled("a", GOLD)}
    logits = predict_sets(handmade, sets)
    for temperature in (1.0, 0.5, 3.0):
        errors = score_sets(logits, sets, temperature)["a"]["confident_errors"]
        assert [e["id"] for e in errors] == ERROR_ORDER  # right predictions (a:1, a:5) never appear
        assert all(e["gold"] != e["prediction"] for e in errors)
        expected = [confidence(SCALE[int(e["id"].split(":")[1])], temperature) for e in errors]
        assert [e["confidence"] for e in errors] == pytest.approx(expected)
    assert errors[0] == {
        "id": "a:0",
        "premise": "premise 0",
        "hypothesis": "claim 0",
        "gold": "support",
        "prediction": "contradict",
        "confidence": pytest.approx(confidence(3.0, 3.0)),
    }
    # The temperature moves the confidences, not the order.
    at_1 = [e["confidence"] for e in score_sets(logits, sets, 1.0)["a"]["confident_errors"]]
    assert at_1[0] > errors[0]["confidence"]

    capped = score_sets(logits, sets, 2.0, max_errors=2)["a"]["confident_errors"]
    assert [e["id"] for e in capped] == ERROR_ORDER[:2]
    assert "confident_errors" not in score_sets(logits, sets, max_errors=0)["a"]
    with pytest.raises(ValueError, match="max_errors"):
        score_sets(logits, sets, max_errors=-1)

    blocks = evaluate_sets(handmade, sets, tmp_path, temperature=2.0, max_errors=3)
    assert [e["id"] for e in blocks["a"]["confident_errors"]] == ERROR_ORDER[:3]
    report = (tmp_path / "report.md").read_text()
    assert "The 3 most confident of 4 wrong predictions" in report and "temperature 2.000" in report
    rows = table_rows(report, "### Most confident errors")
    assert rows[0] == "| # | confidence | gold | predicted | premise | claim | id |" and len(rows) == 2 + 3
    assert rows[2] == f"| 1 | {confidence(3.0, 2.0):.4f} | support | contradict | premise 0 | claim 0 | a:0 |"


def test_a_set_without_errors_says_so(tmp_path):
    evaluate_sets(
        lambda pairs: np.eye(3)[[GOLD[int(p.split()[-1])] for p, _ in pairs]] * 5, {"a": labelled("a", GOLD)}, tmp_path
    )
    report = (tmp_path / "report.md").read_text()
    assert "### Most confident errors\n\nNo wrong predictions." in report


def test_error_table_stays_valid_and_metrics_json_keeps_full_texts(tmp_path):
    long = "A premise | with a pipe,\na newline, a\\|escaped pipe and " + "filler " * 60 + "THE END"
    rows = [
        {"id": "odd|id", "premise": long, "hypothesis": "claim\r\nwith | breaks", "label": 0, "source": "s"},
        {"id": "ok", "premise": "premise", "hypothesis": "claim", "label": 0, "source": "s"},
    ]
    sets = {"odd": Dataset.from_list(rows, features=FEATURES)}
    blocks = evaluate_sets(lambda pairs: np.tile([0.0, 2.0, 0.0], (len(pairs), 1)), sets, tmp_path)
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk == {"sets": blocks}
    first = on_disk["sets"]["odd"]["confident_errors"][0]
    assert first["premise"] == long and first["hypothesis"] == "claim\r\nwith | breaks" and first["id"] == "odd|id"

    table = table_rows((tmp_path / "report.md").read_text(), "### Most confident errors")
    assert len(table) == 2 + 2  # header, rule and one line per error: no newline split a row
    assert {column_breaks(line) for line in table} == {8}  # seven columns in every row
    cell = table[2].split(" | ")[4]
    assert "THE END" not in cell and cell.endswith("…") and len(cell) <= 200 + 10  # + escapes
    assert "\\| with a pipe" in cell and "a\\\\\\|escaped" in cell


def test_by_source_for_a_mixed_set_only(tmp_path):
    sources = ["y", "x", "y", "x", "y", "x"]
    rows = [dict(r, source=s) for r, s in zip(labelled("a", GOLD).to_list(), sources)]
    mixed = Dataset.from_list(rows, features=FEATURES)
    blocks = evaluate_sets(handmade, {"mixed": mixed, "single": labelled("a", GOLD)}, tmp_path)
    assert "by_source" not in blocks["single"]
    by_source = blocks["mixed"]["by_source"]
    assert list(by_source) == ["x", "y"]
    # x: rows 1, 3, 5, gold contradict/support/neutral, predicted contradict/neutral/neutral.
    # F1: support 0, contradict 1, neutral 2/3 (P 1/2, R 1).
    x = by_source["x"]
    assert x["n"] == 3 and x["accuracy"] == pytest.approx(2 / 3) and x["macro_f1"] == pytest.approx(5 / 9)
    assert x["confusion_matrix"]["matrix"] == [[0, 0, 1], [0, 1, 0], [0, 0, 1]]
    # y: rows 0, 2, 4, gold support/neutral/contradict, predicted contradict/support/support: all wrong.
    y = by_source["y"]
    assert y["n"] == 3 and y["accuracy"] == 0.0 and y["macro_f1"] == 0.0
    assert y["confusion_matrix"]["matrix"] == [[0, 1, 0], [1, 0, 0], [1, 0, 0]]
    assert y["labels_scored"] == list(LABELS)
    assert json.loads((tmp_path / "metrics.json").read_text())["sets"]["mixed"]["by_source"] == by_source

    report = (tmp_path / "report.md").read_text()
    assert report.count("### By source") == 1
    assert report.index("## mixed") < report.index("### By source") < report.index("## single")
    # Calibration per source at the set's temperature (1 here). x's three confidences fall in three different
    # bins, so its ECE is the mean gap; y is all wrong, so its ECE is its mean confidence, and the temperature
    # fitted on y alone runs to the search's upper bound (e^3): the flatter, the less wrong.
    x_confidence = [confidence(9.0, 1.0), confidence(2.0, 1.0), confidence(0.5, 1.0)]
    x_ece = (abs(1 - x_confidence[0]) + abs(0 - x_confidence[1]) + abs(1 - x_confidence[2])) / 3
    assert x["ece"] == pytest.approx(x_ece)
    y_confidence = [confidence(3.0, 1.0), confidence(1.0, 1.0), confidence(3.0, 1.0)]
    assert y["ece"] == pytest.approx(np.mean(y_confidence))
    assert y["temperature_alone"] == pytest.approx(np.exp(3.0), rel=1e-3) and x["temperature_alone"] < 10
    assert f"| x | 3 | 0.6667 | 0.5556 | {x_ece:.4f} | {x['temperature_alone']:.2f} | support → neutral 1 |" in report
    assert (
        f"| y | 3 | 0.0000 | 0.0000 | {np.mean(y_confidence):.4f} | ≥ 20.1 "
        "| support → contradict 1, contradict → support 1, neutral → support 1 |"
    ) in report


def test_by_source_shows_which_sources_one_temperature_leaves_miscalibrated():
    # "easy": 90 % right, under-confident (small logits); "hard": half right, over-confident (large logits).
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, size=400)
    right = np.r_[rng.random(200) < 0.9, rng.random(200) < 0.5]
    predicted = np.where(right, gold, (gold + 1) % 3)
    logits = np.zeros((400, 3))
    logits[np.arange(400), predicted] = np.r_[np.full(200, 1.0), np.full(200, 5.0)]
    rows = [
        {"id": str(i), "premise": "p", "hypothesis": "h", "label": int(g), "source": "easy" if i < 200 else "hard"}
        for i, g in enumerate(gold)
    ]
    mixed = Dataset.from_list(rows, features=FEATURES)
    shared = fit_temperature(logits, gold)
    by_source = score_sets({"mix": logits}, {"mix": mixed}, shared)["mix"]["by_source"]
    easy, hard = by_source["easy"], by_source["hard"]
    # The shared temperature sits between the two sources' own, and leaves each worse off than its own would.
    assert easy["temperature_alone"] < shared < hard["temperature_alone"]
    for name, b in (("easy", easy), ("hard", hard)):
        mask = np.asarray([r["source"] == name for r in rows])
        own = ece(probabilities(logits[mask], b["temperature_alone"]), gold[mask])
        assert b["ece"] == pytest.approx(ece(probabilities(logits[mask], shared), gold[mask])) and own < b["ece"]


def test_no_by_source_without_a_source_column():
    ds = labelled("a", GOLD).remove_columns("source")
    logits = predict_sets(handmade, {"a": ds})
    block = score_sets(logits, {"a": ds})["a"]
    assert "by_source" not in block and [e["id"] for e in block["confident_errors"]] == ERROR_ORDER
