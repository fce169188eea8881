"""Fine-tune a stance classifier.

python scripts/train.py                                   # MiniLM on the bundled sample, a few minutes on CPU
python scripts/train.py experiment=nli_mix                # the benchmark recipe
python scripts/train.py -m train.learning_rate=2e-5,5e-5  # a sweep (Hydra multirun)
python scripts/train.py hydra.run.dir=runs/a train.resume=true   # continue a stopped run
python scripts/train.py hparams_search=nli_optuna experiment=nli_mix   # Optuna search on validation macro-F1
torchrun --nproc_per_node=8 scripts/train.py hydra.run.dir=runs/ddp experiment=nli_mix   # data-parallel
"""

import hydra
from omegaconf import DictConfig

from stancekit.config import CONFIG_DIR, set_project_root
from stancekit.eval.report import metrics_table
from stancekit.train import train

set_project_root()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
def main(cfg: DictConfig) -> float:
    result = train(cfg)
    if result is None:  # a non-zero rank under torchrun
        return float("nan")
    run_dir = result.run_dir
    if result.test:
        print("\n" + metrics_table(result.test, result.capabilities))
    else:  # run_test=false, or no test data: the validation scores are the run's result
        v = result.validation
        print(f"\nvalidation: accuracy {v['eval_accuracy']:.4f}, macro-F1 {v['eval_macro_f1']:.4f} (no test set)")
    print(f"\nrun folder: {run_dir}  (report.md, metrics.json, confusion_matrix.png)")
    print(f"model:      {run_dir}/model")
    print(
        'use it:     python -c "from stancekit import StanceClassifier; '
        f"print(StanceClassifier.from_pretrained('{run_dir}/model').predict([('evidence ...', 'claim ...')]))\""
    )
    # Multirun sweepers (Optuna) optimise the returned value: the best validation macro-F1. Never a test
    # score, so that a search does not tune on the test sets.
    return result.objective


if __name__ == "__main__":
    main()
