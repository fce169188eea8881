"""Serve a saved model: a web page for people, a JSON API for programs.

python scripts/serve.py model_dir=RUN/model              # http://127.0.0.1:8000/ (API docs at /docs)
python scripts/serve.py model_dir=RUN/model port=8080 max_wait_ms=2 limits.max_pairs=64
"""

import hydra
from omegaconf import DictConfig

from stancekit.config import CONFIG_DIR, set_project_root
from stancekit.runs import serve

set_project_root()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="serve")
def main(cfg: DictConfig) -> None:
    serve(cfg)


if __name__ == "__main__":
    main()
