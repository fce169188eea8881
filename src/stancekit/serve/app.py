"""The HTTP service: a FastAPI app around one loaded model (``create_app``), served by uvicorn.

Endpoints (JSON, versioned under ``/v1``; the OpenAPI page at ``/docs`` documents each):

* ``POST /v1/pairs``: label (evidence, claim) pairs; answers in input order.
* ``POST /v1/document``: a claim against a whole article; the document label and the evidence sentences with
  character offsets into the submitted text.
* ``GET /v1/model``: labels, base model, temperature, training data and scores from the model card.
* ``GET /healthz``: liveness and counters (requests, batches, pairs, the process's RSS).
* ``GET /``: the web page (``stancekit/serve/static``, nothing fetched from the internet).

Every request's pairs go through one :class:`~stancekit.serve.batcher.MicroBatcher`, so concurrent requests
share forward passes. Bad input is answered, never raised through: 422 names the field that failed
validation, 413 the limit a request exceeds (pairs, characters of a text, bytes of the body: the body is
counted before it is parsed), 503 a request not answered within ``limits.timeout_s`` (it is dropped from
the queue if it has not run; the worker goes on with the others).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import torch
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from omegaconf import OmegaConf
from starlette.concurrency import run_in_threadpool

from ..config import ServeLimits
from ..document.aggregate import predict_document, resolve_options
from ..labels import ID2LABEL, LABELS
from ..system import default_num_threads
from ..version import __version__
from .batcher import MicroBatcher
from .card import model_info
from .schemas import DocumentRequest, DocumentResponse, ErrorOut, PairOut, PairsRequest, PairsResponse

STATIC_DIR = Path(__file__).parent / "static"
ERRORS = {status: {"model": ErrorOut} for status in (413, 422, 503)}


class ApiError(Exception):
    """An answer other than 200: its status, a message naming what was wrong, and the request field."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def create_app(classifier: Any, model_dir: str | Path, cfg: Any) -> FastAPI:
    """The service for ``classifier`` (a :class:`~stancekit.StanceClassifier` or anything with its
    ``predict_proba`` and ``labels``), configured by ``cfg`` (a :class:`~stancekit.config.ServeRunConfig`)."""
    # Plain objects, read once: each request reads the limits, and an OmegaConf node's attribute read costs
    # several microseconds (a visible share of a small request's CPU under load).
    limits, document_options = ServeLimits(**plain(cfg.limits)), resolve_options(cfg.document)
    default_min_confidence = float(cfg.min_confidence)
    workers = worker_options(classifier, cfg.workers)
    batching = {"enabled": cfg.batching, "trim_batches": cfg.trim_batches, **workers}
    batcher = MicroBatcher(classifier.predict_proba, cfg.max_wait_ms, cfg.max_batch_pairs, **batching)
    info = model_info(model_dir, tuple(classifier.labels))
    served = ("backend", "precision", "max_length", "pad_to_multiple_of", "torch_compile")
    info |= {name: getattr(classifier, name, None) for name in served}
    info |= {"version": __version__, "batching": bool(cfg.batching), "workers": workers["workers"]}
    info |= {"limits": dataclasses.asdict(limits)}
    started = time.monotonic()

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        batcher.close()

    # FastAPIOffline: the /docs and /redoc pages with Swagger UI and ReDoc shipped in the package, not from a CDN.
    app = FastAPIOffline(
        title="stancekit",
        version=__version__,
        summary="Does the evidence support, contradict or say nothing about the claim?",
        lifespan=lifespan,
    )
    app.state.batcher = batcher
    app.add_middleware(BodyLimit, max_bytes=limits.max_request_bytes)
    install_error_handlers(app)

    async def scored(future: Future) -> np.ndarray:
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), limits.timeout_s)
        except TimeoutError:  # wait_for cancelled the future: a request not yet run is dropped from the queue
            raise ApiError(503, f"not answered within {limits.timeout_s} s (limits.timeout_s); try again") from None

    @app.post("/v1/pairs", response_model=PairsResponse, responses=ERRORS)
    async def pairs(body: PairsRequest) -> PairsResponse:
        """Label each (evidence, claim) pair: label, calibrated probabilities, confidence, abstained."""
        check_pairs_limits(body, limits)
        probs = await scored(batcher.submit([(p.evidence, p.claim) for p in body.pairs]))
        threshold = default_min_confidence if body.min_confidence is None else body.min_confidence
        return PairsResponse(predictions=[pair_out(row, threshold) for row in probs])

    @app.post("/v1/document", response_model=DocumentResponse, responses=ERRORS)
    async def document(body: DocumentRequest) -> DocumentResponse:
        """A claim against a whole article: the document's label and the sentences that decided it."""
        check_text(body.claim, "claim", limits.max_text_chars, "max_text_chars")
        check_text(body.document, "document", limits.max_document_chars, "max_document_chars")
        deadline = time.monotonic() + limits.timeout_s

        def score(pairs: list) -> np.ndarray:  # runs in a worker thread; its pairs join the shared batches
            return batcher.predict_proba(pairs, timeout=max(deadline - time.monotonic(), 0.0))

        try:
            result = await asyncio.wait_for(
                run_in_threadpool(predict_document, score, body.claim, body.document, document_options),
                limits.timeout_s,
            )
        except TimeoutError:
            raise ApiError(503, f"not answered within {limits.timeout_s} s (limits.timeout_s); try again") from None
        threshold = default_min_confidence if body.min_confidence is None else body.min_confidence
        confidence = round(float(result.probabilities[result.label]), 6)
        return DocumentResponse(
            **result.to_dict(), confidence=confidence, abstained=confidence < threshold, n_units=result.n_units
        )

    @app.get("/v1/model")
    async def model() -> dict[str, Any]:
        """The served model: labels in output order, base model, temperature, training data, test scores."""
        return info

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness, and counters a load test reads (requests, batches, pairs, RSS)."""
        stats = batcher.stats
        return {
            "status": "ok",
            "uptime_s": round(time.monotonic() - started, 3),
            "requests": stats.requests,
            "batches": stats.batches,
            "pairs": stats.pairs,
            "cancelled": stats.cancelled,
            "rss_mib": round(psutil.Process().memory_info().rss / 2**20, 1),
        }

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


# ----------------------------------------------------------------------------------------------- helpers
def worker_options(classifier: Any, workers: int) -> dict[str, Any]:
    """The batcher's ``workers`` and what each runs first: its share of the classifier's CPU threads.

    Several workers need a model that may run in several threads at once: PyTorch's (on the CPU). A converted
    backend's compiled model holds one inference request, so asking for more workers there is an error."""
    if workers == 1:
        return {"workers": 1}
    backend = getattr(classifier, "backend", "torch")
    device = str(getattr(classifier, "device", "cpu"))
    if backend != "torch" or device != "cpu":
        raise ValueError(f"workers={workers} needs backend=torch on the CPU (got backend={backend}, device={device})")
    share = max(1, (getattr(classifier, "num_threads", None) or default_num_threads()) // workers)

    def share_the_cores() -> None:  # in each worker thread: PyTorch's intra-op threads for the passes it runs
        torch.set_num_threads(share)

    return {"workers": workers, "on_worker_start": share_the_cores}


def plain(node: Any) -> dict[str, Any]:
    """A config node (OmegaConf or dataclass) as a plain dict."""
    if dataclasses.is_dataclass(node):
        return dataclasses.asdict(node)
    return OmegaConf.to_container(node, resolve=True)


def pair_out(row: np.ndarray, min_confidence: float) -> PairOut:
    best = int(row.argmax())
    confidence = float(row[best])
    return PairOut(
        label=ID2LABEL[best],
        probabilities={label: round(float(p), 6) for label, p in zip(LABELS, row)},
        confidence=round(confidence, 6),
        abstained=confidence < min_confidence,
    )


def check_text(text: str, field: str, limit: int, name: str) -> None:
    if len(text) > limit:
        raise ApiError(413, f"{field}: {len(text)} characters, over the limit of {limit} (limits.{name})", field)


def check_pairs_limits(body: PairsRequest, limits: Any) -> None:
    """413 for more pairs than ``limits.max_pairs`` or a text longer than ``limits.max_text_chars``."""
    if len(body.pairs) > limits.max_pairs:
        message = f"pairs: {len(body.pairs)} pairs, over the limit of {limits.max_pairs} (limits.max_pairs)"
        raise ApiError(413, message, "pairs")
    for i, pair in enumerate(body.pairs):
        check_text(pair.evidence, f"pairs.{i}.evidence", limits.max_text_chars, "max_text_chars")
        check_text(pair.claim, f"pairs.{i}.claim", limits.max_text_chars, "max_text_chars")


def install_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error": message, "field": dotted field}`` (422 also keeps pydantic's ``detail``)."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, err: ApiError) -> JSONResponse:
        return JSONResponse({"error": err.message, "field": err.field}, status_code=err.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        errors = err.errors()
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
        # A body that is not JSON has the error's character position as its "field": name the body instead.
        fields = ["body" if e["type"] == "json_invalid" else ".".join(map(str, e["loc"][1:])) or "body" for e in errors]
        message = "; ".join(
            f"body: not JSON ({e.get('ctx', {}).get('error', e['msg'])} at character {e['loc'][-1]})"
            if e["type"] == "json_invalid"
            else f"{f}: {e['msg']}"
            for f, e in zip(fields, errors)
        )
        return JSONResponse({"error": message, "field": fields[0] if fields else None, "detail": detail}, 422)


class BodyLimit:
    """ASGI middleware: a body over ``max_bytes`` (declared or received) is a 413 before the app parses it."""

    def __init__(self, app: Callable[..., Awaitable[None]], max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["method"] not in {"POST", "PUT", "PATCH"}:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self.too_large(scope, send, int(declared))
        body, more = b"", True
        while more:  # read it all (at most max_bytes) so a chunked body without a length is bounded too
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                return await self.too_large(scope, send, len(body))
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)

    async def too_large(self, scope: dict, send: Callable, size: int) -> None:
        message = f"request body: {size} bytes, over the limit of {self.max_bytes} (limits.max_request_bytes)"
        response = JSONResponse({"error": message, "field": "body"}, status_code=413)
        await response(scope, None, send)
