"""Cross-dataset comparison table from several run folders' metrics.json (training, evaluation or baseline).

    python bench/quality_table.py "majority=outputs/bench/baseline_majority" "#2 recipe=outputs/bench/eval_nli_mix" ...

Prints two Markdown tables (per test set: accuracy / macro-F1 / ECE; capability pass rates) and writes
them as JSON with --json. Rows are runs, in the order given.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def load(folder: Path) -> dict:
    metrics = json.loads((folder / "metrics.json").read_text())
    if "accuracy" in metrics:  # a single test set
        metrics = {
            metrics.get("name", "test"): metrics,
            **({"capabilities": metrics["capabilities"]} if "capabilities" in metrics else {}),
        }
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="+", help="NAME=FOLDER with a metrics.json")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    runs = {}
    for spec in args.runs:
        name, folder = spec.split("=", 1)
        runs[name] = load(Path(folder))
    sets = [s for s in next(iter(runs.values())) if s != "capabilities"]
    head = "| run | " + " | ".join(sets) + " | mean macro-F1 |"
    lines = ["Each cell: accuracy / macro-F1 / ECE.", "", head, "|---|" + "---|" * (len(sets) + 1)]
    for name, m in runs.items():
        cells = [f"{m[s]['accuracy']:.3f} / {m[s]['macro_f1']:.3f} / {m[s].get('ece', float('nan')):.3f}" for s in sets]
        mean = sum(m[s]["macro_f1"] for s in sets) / len(sets)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | **{mean:.4f}** |")
    caps = [c for c in next(iter(runs.values())).get("capabilities", {})]
    if caps:
        lines += ["", "| run | " + " | ".join(caps) + " |", "|---|" + "---:|" * len(caps)]
        for name, m in runs.items():
            lines.append(f"| {name} | " + " | ".join(f"{m['capabilities'][c]['pass_rate']:.2f}" for c in caps) + " |")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
