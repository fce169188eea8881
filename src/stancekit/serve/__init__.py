"""Serving a saved model over HTTP: the FastAPI app (``create_app``), cross-request batching
(``MicroBatcher``) and the web page in ``static/``. Run it with ``stancekit serve model_dir=RUN/model``."""

from .app import ApiError, create_app
from .batcher import BatcherStats, MicroBatcher
from .card import model_info

__all__ = ["ApiError", "BatcherStats", "MicroBatcher", "create_app", "model_info"]
