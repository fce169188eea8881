"""Training: the recipe (``train(cfg) -> TrainResult``), the Trainer and its settings, memory, checkpoints,
the model folder and records, and sweep summaries."""

from .recipe import TrainResult, train

__all__ = ["TrainResult", "train"]
