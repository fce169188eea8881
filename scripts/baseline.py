"""Score a reference baseline (majority, TF-IDF + logistic regression, hypothesis-only) like a model.

    python scripts/baseline.py baseline=majority data=nli_mix
    python scripts/baseline.py baseline=tfidf data=nli_mix
    python scripts/baseline.py baseline=hypothesis_only data=nli_mix
"""

import hydra
from omegaconf import DictConfig

from stancekit.config import CONFIG_DIR, set_project_root
from stancekit.eval.report import metrics_table
from stancekit.runs import evaluate_baseline

set_project_root()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="baseline")
def main(cfg: DictConfig) -> None:
    report = evaluate_baseline(cfg)
    print("\n" + metrics_table(report.sets, report.capabilities))
    print(f"\nreport: {report.out_dir}/report.md")


if __name__ == "__main__":
    main()
