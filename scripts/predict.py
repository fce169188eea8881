"""Label an unlabelled JSONL file with a saved model.

python scripts/predict.py model_dir=RUN/model input=IN.jsonl output=OUT.jsonl
python scripts/predict.py model_dir=RUN/model mode=document input=ARTICLES.jsonl output=OUT.jsonl
"""

import hydra
from omegaconf import DictConfig

from stancekit.config import CONFIG_DIR, set_project_root
from stancekit.runs import check_mode, predict_documents_file, predict_file

set_project_root()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="predict")
def main(cfg: DictConfig) -> None:
    if check_mode(cfg.mode) == "document":
        n = predict_documents_file(cfg)
        print(f"labelled {n} documents -> {cfg.output}")
        return
    n = predict_file(cfg)
    print(f"labelled {n} pairs -> {cfg.output}")


if __name__ == "__main__":
    main()
