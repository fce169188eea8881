"""docs/results.md from records, never typed by hand.

A record is a small JSON file in docs/results/ made from what a run wrote: a run folder's metrics.json
(training, evaluate, baseline; with train_summary.json and config.yaml when it has them) or a bench JSON.
Each carries its command, date, machine and commit. ``render`` turns all records into docs/results.md,
which therefore only ever holds the numbers of the records present: replace a record to update a table.

    python bench/results.py record nli_mix outputs/nli_mix --title "MiniLM, experiment=nli_mix" \\
        --command "python scripts/train.py experiment=nli_mix hydra.run.dir=outputs/nli_mix"
    python bench/results.py record inference bench/results/inference.json
    python bench/results.py add nli_mix outputs/nli_mix_mm --command "python scripts/evaluate.py ..."  # more sets
    python bench/results.py render                 # writes docs/results.md
    python bench/results.py compare "A=outputs/x" "B=outputs/y"   # a quick side-by-side, printed only
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # bench/ is not a package: its scripts import each other by file name

import inference as inference_bench  # noqa: E402
import memory as memory_bench  # noqa: E402
import peak as peak_bench  # noqa: E402
import serve as serve_bench  # noqa: E402
import step as step_bench  # noqa: E402
import train as train_bench  # noqa: E402

from stancekit.artifacts import write_json, write_text  # noqa: E402
from stancekit.config import PROJECT_ROOT  # noqa: E402

RECORDS = PROJECT_ROOT / "docs" / "results"
RESULTS_MD = PROJECT_ROOT / "docs" / "results.md"
KINDS = ("quality", "documents", "inference", "train", "step", "serve", "memory")
BENCHES = {
    "inference": inference_bench,
    "train": train_bench,
    "step": step_bench,
    "serve": serve_bench,
    "memory": memory_bench,
}


# ---------------------------------------------------------------------------------------------- records
def commit() -> str | None:
    """The checked-out commit, or None outside a git checkout (or without git)."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    except OSError:
        return None
    return done.stdout.strip() or None


def run_record(folder: Path, title: str, command: str) -> dict:
    """The numbers of a run folder: every test set's metrics, the capability suite, and training facts."""
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    if "sets" not in metrics:
        raise ValueError(f"{folder}/metrics.json has no 'sets': written by a stancekit older than 0.2?")
    sets = {
        name: {k: b[k] for k in ("n", "accuracy", "macro_f1", "ece") if k in b} | _fnc(b)
        for name, b in metrics["sets"].items()
    }
    record = {
        "kind": "documents" if any("fnc" in s for s in sets.values()) else "quality",
        "title": title,
        "command": command,
        "date": datetime.fromtimestamp((folder / "metrics.json").stat().st_mtime, timezone.utc).isoformat(
            timespec="seconds"
        ),
        "machine": inference_bench.machine(),
        # The commit the predictions were made at, where metrics.json records it; else the checkout's.
        "commit": metrics.get("commit") or commit(),
        "sets": sets,
        "capabilities": {name: c["pass_rate"] for name, c in metrics.get("capabilities", {}).items()},
    }
    summary = folder / "train_summary.json"
    if summary.is_file():
        s = json.loads(summary.read_text(encoding="utf-8"))
        record["training"] = {
            "validation_macro_f1": s["validation"]["eval_macro_f1"],
            "train_seconds": s["train"].get("train_runtime"),
            "train_examples": s["train_examples"],
            "peak_rss_mb": s.get("peak_rss_mb"),
            "temperature": s.get("temperature"),
        }
        # The commit the run was trained at, where it recorded one (the checkout may have moved on since).
        record["commit"] = s.get("commit") or record["commit"]
    config = folder / "config.yaml"
    if config.is_file():
        from omegaconf import OmegaConf

        cfg = OmegaConf.load(config)
        record["seed"] = int(cfg.train.seed)
        record["base_model"] = str(cfg.model.name_or_path)
    return record


def add_sets(record: dict, folder: Path, command: str) -> dict:
    """The record with the test sets of another evaluation of the same model (``scripts/evaluate.py`` on
    more data) added, and that evaluation's command kept beside the record's own."""
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    added = {
        name: {k: b[k] for k in ("n", "accuracy", "macro_f1", "ece") if k in b} for name, b in metrics["sets"].items()
    }
    if clash := sorted(set(added) & set(record["sets"])):
        raise ValueError(f"the record already has the sets {clash}")
    record["sets"] = record["sets"] | added
    also = {"command": command, "sets": list(added), "commit": metrics.get("commit") or commit()}
    record.setdefault("also", []).append(also)
    return record


def _fnc(block: dict) -> dict:
    if "fnc" not in block:
        return {}
    f = block["fnc"]
    return {
        "fnc": {
            "percent": f["score"]["percent"],
            "floor": f["all_unrelated_percent"],
            "macro_f1": f["macro_f1"],
            "f1": {lab: c["f1"] for lab, c in f["per_class"].items()},
            "relatedness_accuracy": f["relatedness"]["accuracy"],
            "gated": f.get("gated"),
        }
    }


def bench_record(path: Path, title: str) -> dict:
    """A bench JSON (bench/inference.py, train.py, serve.py or memory.py) as it is, with its kind and the commit
    it measured (the checkout's, for a JSON from before the benches recorded one).

    A JSON from before the benches recorded CPU features gets this machine's, but only when its CPU model and
    core counts are this machine's too (records are made where the bench ran).
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    here = inference_bench.machine()
    if all(data["machine"].get(k) == here[k] for k in ("cpu", "physical_cores", "logical_cpus")):
        data["machine"].setdefault("features", here["features"])
    kind = next(k for k in BENCHES if f"bench/{k}.py" in data["command"])
    return {"kind": kind, "title": title, **data, "commit": data.get("commit") or commit()}


# ---------------------------------------------------------------------------------------------- render
def provenance(r: dict) -> str:
    """The record's note (when it has one), then its command, date, machine and commit."""
    m = r["machine"]
    cpu = m["cpu"] + (f" ({', '.join(m['features'])})" if m.get("features") else "")
    cpu += f", {m['physical_cores']} cores" if m.get("physical_cores") else ""
    commit_note = f", commit {r['commit']}" if r.get("commit") else ""
    note = f"{r['note']} " if r.get("note") else ""
    also = "".join(
        f" {', '.join(a['sets'])}: `{a['command']}`" + (f" (commit {a['commit']})" if a.get("commit") else "") + "."
        for a in r.get("also", [])
    )
    return f"{note}`{r['command']}` — {r['date'][:10]}, {cpu}{commit_note}.{also}"


def quality_section(group: list[dict]) -> list[str]:
    """One recipe: its table for one seed, or mean ± std over the seeds of several records of it."""
    if len(group) > 1:
        return seeds_section(group)
    r = group[0]
    seed = f" (seed {r['seed']})" if "seed" in r else ""
    lines = [f"### {r['title']}{seed}", "", provenance(r), ""]
    lines += ["| test set | n | accuracy | macro-F1 | ECE |", "|---|---:|---:|---:|---:|"]
    for name, s in r["sets"].items():
        ece = s.get("ece", float("nan"))
        lines.append(f"| {name} | {s['n']:,} | {s['accuracy']:.4f} | {s['macro_f1']:.4f} | {ece:.4f} |")
    if len(r["sets"]) > 1:
        mean = sum(s["macro_f1"] for s in r["sets"].values()) / len(r["sets"])
        lines.append(f"| **mean over sets** | | | **{mean:.4f}** | |")
    lines += training_lines([r]) + capability_lines([r])
    return lines + [""]


def seeds_heading(group: list[dict]) -> list[str]:
    """The heading and each seed's provenance for one recipe's records over several seeds (the same sets each)."""
    names = list(group[0]["sets"])
    if any(list(r["sets"]) != names for r in group):
        raise ValueError(f"records titled {group[0]['title']!r} test on different sets; give them different titles")
    seeds = ", ".join(str(r.get("seed")) for r in group)
    lines = [f"### {group[0]['title']} (seeds {seeds}: mean ± std)", ""]
    return lines + [f"- seed {r.get('seed')}: {provenance(r)}" for r in group] + [""]


def seeds_section(group: list[dict]) -> list[str]:
    seeds = [r.get("seed") for r in group]
    lines = seeds_heading(group)
    head = "| test set | n | accuracy | macro-F1 | " + " | ".join(f"macro-F1 seed {s}" for s in seeds) + " |"
    lines += [head, "|---|---:|---:|---:|" + "---:|" * len(seeds)]
    for name, first in group[0]["sets"].items():
        acc = [r["sets"][name]["accuracy"] for r in group]
        f1 = [r["sets"][name]["macro_f1"] for r in group]
        per_seed = " | ".join(f"{v:.4f}" for v in f1)
        lines.append(f"| {name} | {first['n']:,} | {mean_std(acc)} | {mean_std(f1)} | {per_seed} |")
    means = [sum(s["macro_f1"] for s in r["sets"].values()) / max(len(r["sets"]), 1) for r in group]
    per_seed = " | ".join(f"{v:.4f}" for v in means)
    lines.append(f"| **mean over sets** | | | **{mean_std(means)}** | {per_seed} |")
    return lines + training_lines(group) + capability_lines(group) + [""]


def mean_std(values: list[float], digits: int = 4) -> str:
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else 0.0
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def training_lines(group: list[dict]) -> list[str]:
    """One sentence per record on its training run: size, time, peak memory, validation score."""
    lines = [""]
    for r in group:
        t = r.get("training")
        if not t:
            continue
        minutes = f"{t['train_seconds'] / 60:.1f} min" if t.get("train_seconds") else "?"
        peak = f", peak RSS of the whole run {t['peak_rss_mb']:,.0f} MiB" if t.get("peak_rss_mb") else ""
        who = f"- seed {r.get('seed')}: training" if len(group) > 1 else "Training:"
        lines.append(
            f"{who} {t['train_examples']:,} pairs in {minutes}{peak}; best validation macro-F1 "
            f"{t['validation_macro_f1']:.4f}; temperature {t['temperature']:.3f}."
        )
    return lines if len(lines) > 1 else []


def capability_lines(group: list[dict]) -> list[str]:
    caps = group[0].get("capabilities")
    if not caps:
        return []
    lines = ["", "| capability pass rate | " + " | ".join(caps) + " |", "|---|" + "---:|" * len(caps)]
    for r in group:
        label = f"seed {r.get('seed')}" if len(group) > 1 else "pass rate"
        rates = r.get("capabilities") or {}
        lines.append(f"| {label} | " + " | ".join(f"{rates[c]:.2f}" if c in rates else "–" for c in caps) + " |")
    return lines


def documents_section(group: list[dict]) -> list[str]:
    """One document recipe's FNC-1 view: a row per set, or per set and seed plus their mean ± std."""
    r = group[0]
    lines = [f"### {r['title']}", "", provenance(r), ""] if len(group) == 1 else seeds_heading(group)
    seed_head, seed_rule = ("| seed ", "---|") if len(group) > 1 else ("", "")
    lines += [
        f"| set {seed_head}| pairs (gated) | FNC % (all-unrelated floor) | F1m "
        "| F1 agree / disagree / discuss / unrelated | related/unrelated acc | 3-way macro-F1 |",
        f"|---|{seed_rule}---:|---:|---:|---|---:|---:|",
    ]
    for name in r["sets"]:
        for x in group:
            s, f = x["sets"][name], x["sets"][name]["fnc"]
            seed = f"| {x.get('seed')} " if len(group) > 1 else ""
            gated = f" ({f['gated']:,})" if f.get("gated") is not None else ""
            per_class = " / ".join(f"{v:.3f}" for v in f["f1"].values())
            lines.append(
                f"| {name} {seed}| {s['n']:,}{gated} | {f['percent']:.2f} ({f['floor']:.2f}) | {f['macro_f1']:.3f} "
                f"| {per_class} | {f['relatedness_accuracy']:.3f} | {s['macro_f1']:.3f} |"
            )
        if len(group) > 1:
            fnc = [x["sets"][name]["fnc"] for x in group]
            per_class = " / ".join(mean_std([f["f1"][c] for f in fnc], 3) for c in fnc[0]["f1"])
            lines.append(
                f"| {name} | **mean ± std** | | **{mean_std([f['percent'] for f in fnc], 2)}** "
                f"| {mean_std([f['macro_f1'] for f in fnc], 3)} | {per_class} "
                f"| {mean_std([f['relatedness_accuracy'] for f in fnc], 3)} "
                f"| {mean_std([x['sets'][name]['macro_f1'] for x in group], 3)} |"
            )
    return lines + [""]


def seed_cell(values: list[float | None], digits: int = 4, spread: bool = True) -> str:
    """One number of a recipe over its seeds (None where a seed's record lacks it): the mean for one seed,
    mean ± std for several (``spread``), "–" when no seed has it, and "(k/N)" after it when only k of N have it."""
    have = [v for v in values if v is not None]
    if not have:
        return "–"
    text = mean_std(have, digits) if spread and len(have) > 1 else f"{sum(have) / len(have):.{digits}f}"
    return text if len(have) == len(values) else f"{text} ({len(have)}/{len(values)})"


def side_by_side(groups: list[list[dict]]) -> list[str]:
    """One row per recipe (its seeds' means): macro-F1 per test set any of them reports with the recipe's mean
    over its own sets, over the sets every recipe has (when they differ) and its validation macro-F1; then ECE
    per set, then capability pass rates."""
    sets_of = [list(dict.fromkeys(name for r in g for name in r["sets"])) for g in groups]
    names = list(dict.fromkeys(name for sets in sets_of for name in sets))
    common = [name for name in names if all(name in sets for sets in sets_of)]
    differ = any(len(sets) != len(common) for sets in sets_of)
    partial = False

    def cell(values: list[float | None], digits: int = 4, spread: bool = True) -> str:
        nonlocal partial
        partial |= any(v is None for v in values) and any(v is not None for v in values)
        return seed_cell(values, digits, spread)

    def mean_over(r: dict, chosen: list[str]) -> float | None:
        if not chosen or any(name not in r["sets"] for name in chosen):
            return None
        return sum(r["sets"][name]["macro_f1"] for name in chosen) / len(chosen)

    def per_set(group: list[dict], name: str, key: str) -> list[float | None]:
        return [r["sets"][name].get(key) if name in r["sets"] else None for r in group]

    extra = ["mean over the sets every recipe has"] if differ else []
    head = ["recipe", "seeds", *names, "mean macro-F1", *extra, "best validation macro-F1"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for group, sets in zip(groups, sets_of):
        seeds = ", ".join(str(r["seed"]) if "seed" in r else "–" for r in group)
        cells = [cell(per_set(group, name, "macro_f1")) if name in sets else "–" for name in names]
        cells.append(cell([mean_over(r, list(r["sets"])) for r in group]))
        if differ:
            cells.append(cell([mean_over(r, common) for r in group]))
        cells.append(cell([(r.get("training") or {}).get("validation_macro_f1") for r in group]))
        lines.append(f"| {group[0]['title']} | {seeds} | " + " | ".join(cells) + " |")
    note = (
        "Each cell is the mean over the recipe's seeds (± the standard deviation over seeds where it has several);"
        " mean macro-F1 averages the test sets the recipe has."
    )
    if differ:
        lacking = "; ".join(
            f"{g[0]['title']} lacks {', '.join(n for n in names if n not in sets)}"
            for g, sets in zip(groups, sets_of)
            if len(sets) < len(names)
        )
        fair = f", so compare them by the mean over the {len(common)} sets every recipe has" if common else ""
        note += f" The recipes do not all report the same test sets ({lacking}): their mean macro-F1 values average"
        note += f" different sets{fair}."
    note += " The recipe to keep is chosen by validation macro-F1; test sets are reported once per recipe and chose"
    note += " nothing. Validation scores compare only recipes trained on the same data (the same validation split):"
    note += " stance_mix validates on harder sets than nli_mix."
    lines += ["", note]

    lines += ["", "ECE after temperature scaling, per test set (mean over seeds):", ""]
    lines += ["| recipe | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for group, sets in zip(groups, sets_of):
        cells = [cell(per_set(group, name, "ece"), digits=3) if name in sets else "–" for name in names]
        lines.append(f"| {group[0]['title']} | " + " | ".join(cells) + " |")

    caps = list(dict.fromkeys(c for g in groups for r in g for c in r.get("capabilities") or {}))
    if caps:
        lines += ["", "Capability pass rates (mean over seeds; – where a recipe's records lack the capability):", ""]
        lines += ["| recipe | " + " | ".join(caps) + " |", "|---|" + "---:|" * len(caps)]
        for group in groups:
            rates = [cell([(r.get("capabilities") or {}).get(c) for r in group], 2, spread=False) for c in caps]
            lines.append(f"| {group[0]['title']} | " + " | ".join(rates) + " |")
    if partial:
        lines += ["", "A cell marked (k/N) is the mean over the k of the recipe's N seeds whose records have it."]
    return lines + [""]


def bench_section(group: list[dict]) -> list[str]:
    r = group[0]
    lines = [f"### {r['title']}", "", provenance(r), "", BENCHES[r["kind"]].table(r["rows"]), ""]
    if r.get("peak"):  # the matrix-product peak MFU is measured against (bench/peak.py, same run)
        lines += [peak_bench.table(r["peak"]), ""]
    # A bench's further tables, where its module has some (bench/step.py --profile, bench/train.py --phases).
    for heading, table in getattr(BENCHES[r["kind"]], "extra_tables", lambda rows: [])(r["rows"]):
        lines += [heading, "", table, ""]
    if r.get("goals"):  # bench/serve.py, bench/memory.py: the goals with the numbers reached
        lines += [f"- {goal}" for goal in r["goals"]] + [""]
    return lines


HEADINGS = {
    "quality": "## Quality per test set",
    "documents": "## Document-level stance (FNC-1 view)",
    "inference": "## Speed and memory: inference",
    "train": "## Speed and memory: training",
    "step": "## Training step options, timed in one process",
    "serve": "## Serving under load",
    "memory": "## Evaluation memory against the number of pairs",
}
SECTIONS = {
    "quality": quality_section,
    "documents": documents_section,
    "inference": bench_section,
    "train": bench_section,
    "step": bench_section,
    "serve": bench_section,
    "memory": bench_section,
}


def render(records: list[dict]) -> str:
    lines = [
        "# Results",
        "",
        "The current numbers, and only those: each table names its command, date, machine and commit. This page",
        "is generated by `python bench/results.py render` from the records in [`results/`](results/), each made",
        "from a run's own `metrics.json` (or a bench script's JSON) by `python bench/results.py record`; edit the",
        "records' runs, not this page. What changed over time: [CHANGELOG.md](../CHANGELOG.md); past",
        "measurements and the experiments behind today's defaults: [notes/](notes/); what the numbers mean for",
        "CPU speed and memory: [performance.md](performance.md).",
        "",
    ]
    for kind in KINDS:
        chosen = [r for r in records if r["kind"] == kind]
        if chosen:
            lines += [HEADINGS[kind], ""]
            # Records of one recipe (one title) that differ only in their seed make one table.
            groups: dict[str, list[dict]] = {}
            for r in chosen:
                groups.setdefault(r["title"], []).append(r)
            ordered = [sorted(group, key=lambda r: r.get("seed", 0)) for group in groups.values()]
            recipes = [group for group in ordered if kind == "quality" and len(group[0]["sets"]) > 1]
            if len(recipes) > 1:
                lines += ["### Recipes side by side", ""] + side_by_side(recipes)
            for group in ordered:
                lines += SECTIONS[kind](group)
    return "\n".join(lines).rstrip() + "\n"


def load_records(folder: Path = RECORDS) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


# ---------------------------------------------------------------------------------------------- compare
def compare(runs: dict[str, Path]) -> str:
    """Side by side: per test set accuracy / macro-F1 / ECE, one row per run (metrics.json of each)."""
    loaded = {name: json.loads((folder / "metrics.json").read_text()) for name, folder in runs.items()}
    sets = list(next(iter(loaded.values()))["sets"])
    lines = ["| run | " + " | ".join(sets) + " | mean macro-F1 |", "|---|" + "---|" * (len(sets) + 1)]
    for name, m in loaded.items():
        blocks = [m["sets"][s] for s in sets]
        cells = [f"{b['accuracy']:.3f} / {b['macro_f1']:.3f} / {b['ece']:.3f}" for b in blocks]
        mean = sum(m["sets"][s]["macro_f1"] for s in sets) / len(sets)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | **{mean:.4f}** |")
    return "Each cell: accuracy / macro-F1 / ECE.\n\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    rec = sub.add_parser("record", help="make docs/results/NAME.json from a run folder or a bench JSON")
    rec.add_argument("name")
    rec.add_argument("source", type=Path, help="a run folder with metrics.json, or bench/results/*.json")
    rec.add_argument("--title", help="the table's heading (default: NAME)")
    rec.add_argument("--command", help="the command that made the run folder (required for run folders)")
    rec.add_argument("--note", help="a sentence shown under the heading: what the run is")
    rec.add_argument("--records", type=Path, default=RECORDS)
    add = sub.add_parser("add", help="add the test sets of another evaluation of the same model to a record")
    add.add_argument("name")
    add.add_argument("source", type=Path, help="the evaluation's run folder (metrics.json)")
    add.add_argument("--command", required=True, help="the command that made it")
    add.add_argument("--records", type=Path, default=RECORDS)
    ren = sub.add_parser("render", help="write docs/results.md from every record")
    ren.add_argument("--records", type=Path, default=RECORDS)
    ren.add_argument("--out", type=Path, default=RESULTS_MD)
    cmp = sub.add_parser("compare", help="print a side-by-side table of run folders (NAME=FOLDER ...)")
    cmp.add_argument("runs", nargs="+")
    args = parser.parse_args(argv)
    if args.action == "record":
        if args.source.is_dir():
            if not args.command:
                parser.error("record from a run folder needs --command (how the run was made)")
            record = run_record(args.source, args.title or args.name, args.command)
        else:
            record = bench_record(args.source, args.title or args.name)
        if args.note:
            record["note"] = args.note
        print(f"wrote {write_json(args.records / f'{args.name}.json', record)}")
    elif args.action == "add":
        path = args.records / f"{args.name}.json"
        record = add_sets(json.loads(path.read_text(encoding="utf-8")), args.source, args.command)
        print(f"wrote {write_json(path, record)}")
    elif args.action == "render":
        print(f"wrote {write_text(args.out, render(load_records(args.records)))}")
    else:
        print(compare({n: Path(f) for n, f in (spec.split("=", 1) for spec in args.runs)}))


if __name__ == "__main__":
    main()
