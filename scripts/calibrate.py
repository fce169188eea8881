"""Fit (or refit) a saved model's temperature on a validation split and store it with the model.

    python scripts/calibrate.py model_dir=RUN/model data=nli_mix
    python scripts/calibrate.py model_dir=RUN/model data=jsonl data.validation_file=my_dev.jsonl
"""

import hydra
from omegaconf import DictConfig

from stancekit.config import CONFIG_DIR, set_project_root
from stancekit.runs import calibrate_model

set_project_root()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="calibrate")
def main(cfg: DictConfig) -> None:
    r = calibrate_model(cfg)
    print(
        f"temperature {r['temperature']:.3f} (was {r['previous_temperature']:.3f}) on {r['n']} validation pairs: "
        f"ECE {r['ece_before']:.4f} -> {r['ece']:.4f}, NLL {r['nll_before']:.4f} -> {r['nll']:.4f}"
    )
    print(f"stored in {cfg.model_dir}/stancekit.json")


if __name__ == "__main__":
    main()
