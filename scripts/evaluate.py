"""Score a saved model on labelled data (every test source of the data config, side by side).

python scripts/evaluate.py model_dir=RUN/model data=jsonl data.test_file=FILE.jsonl
python scripts/evaluate.py model_dir=RUN/model data=nli_mix
python scripts/evaluate.py model_dir=RUN/model mode=document data=fnc1   # whole articles, FNC-1 score
"""

import hydra
from omegaconf import DictConfig

from stancekit.cli import CONFIG_DIR, metrics_table, set_project_root
from stancekit.document import check_mode
from stancekit.fnc import evaluate_documents, fnc_blocks_of, fnc_table
from stancekit.scoring import evaluate_model

set_project_root()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="evaluate")
def main(cfg: DictConfig) -> None:
    metrics = evaluate_documents(cfg) if check_mode(cfg.mode) == "document" else evaluate_model(cfg)
    print("\n" + metrics_table(metrics))
    if fnc_blocks := fnc_blocks_of(metrics):
        print("\nFNC-1 view\n" + fnc_table(fnc_blocks))
    print(f"\nreport: {cfg.paths.output_dir}/report.md")


if __name__ == "__main__":
    main()
