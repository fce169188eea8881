"""Score a saved model on labelled data (every test source of the data config, side by side).

python scripts/evaluate.py model_dir=RUN/model data=jsonl data.test_file=FILE.jsonl
python scripts/evaluate.py model_dir=RUN/model data=nli_mix
python scripts/evaluate.py model_dir=RUN/model mode=document data=fnc1   # whole articles, FNC-1 score
"""

import hydra
from omegaconf import DictConfig

from stancekit.config import CONFIG_DIR, set_project_root
from stancekit.document.fnc import fnc_blocks_of, fnc_table
from stancekit.eval.report import metrics_table
from stancekit.runs import check_mode, evaluate_documents, evaluate_model

set_project_root()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="evaluate")
def main(cfg: DictConfig) -> None:
    report = evaluate_documents(cfg) if check_mode(cfg.mode) == "document" else evaluate_model(cfg)
    print("\n" + metrics_table(report.sets, report.capabilities))
    if fnc_blocks := fnc_blocks_of(report.sets):
        print("\nFNC-1 view\n" + fnc_table(fnc_blocks))
    print(f"\nreport: {report.out_dir}/report.md")


if __name__ == "__main__":
    main()
