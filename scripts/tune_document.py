"""Tune document-level aggregation (window sets, aggregation, threshold, top_k) on the validation split.

python scripts/tune_document.py model_dir=RUN/model                      # data=fnc1: the hold-out bodies
python scripts/tune_document.py model_dir=RUN/model max_documents=500 'thresholds=[0.5,0.7,0.9]'

Reads the data config's validation split only, never its test split (an option picked on test would report
an optimistic test score). Every unit is scored once; the grid is evaluated on the cached probabilities by
the FNC-1 view of scripts/evaluate.py mode=document. Writes tuning.json and tuning.md into the run folder,
with the document.* overrides to pass to scripts/evaluate.py mode=document.
"""

import shlex

import hydra
from omegaconf import DictConfig

from stancekit.config import CONFIG_DIR, set_project_root
from stancekit.document.tune import tuning_table
from stancekit.runs import tune_document_options
from stancekit.runs.tune_document import SPLIT_NOTE

set_project_root()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="tune_document")
def main(cfg: DictConfig) -> None:
    report = tune_document_options(cfg)
    print(f"\n{SPLIT_NOTE}\n" + tuning_table(report.tuning))
    print("\nevaluate with the best option:\n  " + " ".join(shlex.quote(part) for part in report.command))
    print(f"\ntuning: {report.out_dir}/tuning.md")


if __name__ == "__main__":
    main()
