"""Library side of ``scripts/serve.py``: load a saved model once and serve it with uvicorn."""

from __future__ import annotations

import logging
import sys

import uvicorn
from fastapi import FastAPI
from omegaconf import DictConfig

from ..serve import create_app
from ..system import limit_kernel_cache
from .common import load_classifier

log = logging.getLogger(__name__)


def build_app(cfg: DictConfig) -> FastAPI:
    """The service of ``cfg.model_dir`` as a FastAPI app (the model loaded, the batcher's worker started)."""
    # Before the model's first bf16 product: oneDNN reads its cache capacity once.
    limit_kernel_cache(cfg.onednn_cache_capacity, "onednn_cache_capacity")
    classifier = load_classifier(cfg)
    # Before the first request: a compiled model (torch_compile=true) compiles here, not in a request's time.
    log.info("warmed up in %.1f s", classifier.warm_up())
    return create_app(classifier, cfg.model_dir, cfg)


def serve(cfg: DictConfig) -> None:
    """Serve until interrupted: the page at ``http://HOST:PORT/``, the API under ``/v1``, docs at ``/docs``."""
    if cfg.switch_interval_ms is not None:
        sys.setswitchinterval(cfg.switch_interval_ms / 1000)
    app = build_app(cfg)
    log.info("serving %s on http://%s:%d/ (API docs: /docs)", cfg.model_dir, cfg.host, cfg.port)
    # One process: the model is loaded once and its one batcher sees every request. uvicorn's event loop takes
    # the connections; the forward passes run in the batcher's thread, which releases the GIL while it computes.
    uvicorn.run(app, host=cfg.host, port=cfg.port, log_level=cfg.log_level, access_log=cfg.log_level == "info")
