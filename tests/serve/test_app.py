"""The HTTP API through FastAPI's test client: every endpoint, the same answers as StanceClassifier, each
bad-input case with its status and field, the limits, timeouts, and bad requests beside good ones."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx
import pytest
from fastapi.testclient import TestClient
from omegaconf import OmegaConf

from stancekit.config import ServeRunConfig
from stancekit.labels import LABELS
from stancekit.serve import create_app
from stancekit.serve.app import worker_options
from tests.helpers import compose_config, long_article, shuffled_sample_pairs

CLAIM = "Russia would accept European peacekeepers."


def serve_config(model_dir, **changes):
    cfg = OmegaConf.structured(ServeRunConfig(model_dir=str(model_dir)))
    for key, value in changes.items():
        OmegaConf.update(cfg, key, value)
    return cfg


@pytest.fixture(scope="module")
def client(clf, stance_model_dir):
    cfg = serve_config(stance_model_dir, **{"limits.max_pairs": 40, "limits.max_text_chars": 300})
    with TestClient(create_app(clf, stance_model_dir, cfg)) as test_client:
        yield test_client


def as_body(pairs, **extra):
    return {"pairs": [{"evidence": p, "claim": h} for p, h in pairs], **extra}


def test_pairs_match_the_classifier_in_input_order(client, clf):
    pairs = shuffled_sample_pairs()[:30]
    response = client.post("/v1/pairs", json=as_body(pairs, min_confidence=0.34))
    assert response.status_code == 200
    got = response.json()["predictions"]
    expected = clf.classify(pairs, min_confidence=0.34)
    assert [p["label"] for p in got] == [e.label for e in expected]
    for p, e in zip(got, expected):
        assert p["abstained"] == e.abstained and list(p["probabilities"]) == list(LABELS)
        assert p["probabilities"] == pytest.approx(e.probabilities, abs=1e-5)
        assert p["confidence"] == pytest.approx(e.confidence, abs=1e-5)


def test_document_matches_the_classifier_with_offsets_into_the_text(clf, stance_model_dir):
    article = "Über den Plan: 🇪🇺 " + long_article()  # non-ASCII first, so offsets are code points, not bytes
    cfg = serve_config(stance_model_dir, **{"document.threshold": 0.05, "document.min_claim_overlap": 0})
    with TestClient(create_app(clf, stance_model_dir, cfg)) as client:
        response = client.post("/v1/document", json={"claim": CLAIM, "document": article, "min_confidence": 0.99})
    assert response.status_code == 200
    body = response.json()
    expected = clf.predict_document(CLAIM, article, cfg.document)
    assert body["label"] == expected.label and body["abstained"] is True
    assert body["probabilities"] == pytest.approx(expected.probabilities, abs=1e-5)
    assert body["evidence"] and len(body["evidence"]) == len(expected.evidence)
    for ev in body["evidence"]:
        assert article[ev["start"] : ev["end"]] == ev["text"] and ev["label"] in ("support", "contradict")
    assert body["n_units"] == expected.n_units and body["n_sentences"] == expected.n_sentences


def test_model_and_health(client, clf):
    info = client.get("/v1/model").json()
    assert info["labels"] == list(LABELS) and info["temperature"] == clf.temperature
    assert info["max_length"] == clf.max_length and info["limits"]["max_pairs"] == 40
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["rss_mib"] > 0 and health["requests"] >= 0
    docs = client.get("/openapi.json").json()
    assert {"/v1/pairs", "/v1/document", "/v1/model", "/healthz"} <= set(docs["paths"])
    assert client.get("/").headers["content-type"].startswith("text/html")


def test_the_model_card_reaches_v1_model(trained_run, clf):
    _, result = trained_run
    with TestClient(create_app(clf, result.model_dir, serve_config(result.model_dir))) as client:
        info = client.get("/v1/model").json()
    assert info["data_config"] == "sample" and info["base_model"]
    assert info["training_data"] and {"split", "source", "n"} <= set(info["training_data"][0])
    assert info["test"] and "macro-F1" in info["test"][0]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"pairs": []}, "pairs"),
        ({}, "pairs"),
        ({"pairs": [{"evidence": "  ", "claim": "c"}]}, "pairs.0.evidence"),
        ({"pairs": [{"evidence": "e", "claim": "c"}, {"evidence": "e"}]}, "pairs.1.claim"),
        ({"pairs": [{"evidence": "e", "claim": 3}]}, "pairs.0.claim"),
        ({"pairs": [{"evidance": "e", "claim": "c"}]}, "pairs.0.evidence"),
        ({"pairs": [{"evidence": "e", "claim": "c"}], "min_confidence": 1.5}, "min_confidence"),
        ({"pairs": "e"}, "pairs"),
    ],
)
def test_bad_pairs_are_422_naming_the_field(client, body, field):
    response = client.post("/v1/pairs", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == field and field in response.json()["error"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"claim": "", "document": "d"}, "claim"),
        ({"claim": "c"}, "document"),
        ({"claim": "c", "document": []}, "document"),
    ],
)
def test_bad_documents_are_422_naming_the_field(client, body, field):
    response = client.post("/v1/document", json=body)
    assert response.status_code == 422 and response.json()["field"] == field


def test_a_body_that_is_not_json_is_422(client):
    response = client.post("/v1/pairs", content=b'{"pairs": [', headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["field"] == "body"
    assert "not JSON" in response.json()["error"]


def test_limits_are_413_naming_the_limit(client):
    too_many = client.post("/v1/pairs", json=as_body([("e", "c")] * 41))
    assert too_many.status_code == 413 and "limits.max_pairs" in too_many.json()["error"]
    too_long = client.post("/v1/pairs", json=as_body([("e", "c"), ("e", "x" * 301)]))
    assert too_long.status_code == 413 and too_long.json()["field"] == "pairs.1.claim"
    claim = client.post("/v1/document", json={"claim": "x" * 301, "document": "d"})
    assert claim.status_code == 413 and claim.json()["field"] == "claim"


def test_request_bytes_are_counted_before_parsing(clf, stance_model_dir):
    cfg = serve_config(stance_model_dir, **{"limits.max_request_bytes": 200, "limits.max_document_chars": 50})
    with TestClient(create_app(clf, stance_model_dir, cfg)) as client:
        big = json.dumps(as_body([("evidence", "claim")] * 10)).encode()
        declared = client.post("/v1/pairs", content=big, headers={"content-type": "application/json"})
        assert declared.status_code == 413 and "limits.max_request_bytes" in declared.json()["error"]
        # A chunked body declares no length: the bytes received are counted.
        streamed = client.post("/v1/pairs", content=iter([big[:150], big[150:]]))
        assert streamed.status_code == 413
        document = client.post("/v1/document", json={"claim": "c", "document": "d" * 51})
        assert document.status_code == 413 and document.json()["field"] == "document"
        assert client.post("/v1/pairs", json=as_body([("e", "c")])).status_code == 200


class SlowModel:
    """The classifier's answers, but each call waits until ``go`` is set (or 1 s)."""

    def __init__(self, clf):
        self.clf, self.labels, self.go = clf, clf.labels, threading.Event()

    def predict_proba(self, pairs):
        self.go.wait(1.0)
        return self.clf.predict_proba(pairs)


def test_a_slow_request_is_503_and_the_worker_goes_on(clf, stance_model_dir):
    model = SlowModel(clf)
    cfg = serve_config(stance_model_dir, **{"limits.timeout_s": 0.2, "document.min_claim_overlap": 0})
    with TestClient(create_app(model, stance_model_dir, cfg)) as client:
        slow = client.post("/v1/pairs", json=as_body([("e", "c")]))
        assert slow.status_code == 503 and "limits.timeout_s" in slow.json()["error"]
        document = client.post("/v1/document", json={"claim": CLAIM, "document": long_article()})
        assert document.status_code == 503
        model.go.set()
        assert client.post("/v1/pairs", json=as_body([("e", "c")])).status_code == 200


def test_bad_requests_beside_good_ones_leave_them_untouched(clf, stance_model_dir):
    pairs = shuffled_sample_pairs()[:8]
    expected = clf.predict(pairs)
    app = create_app(clf, stance_model_dir, serve_config(stance_model_dir, **{"limits.max_pairs": 10}))
    bad_bodies = [{"pairs": []}, as_body([("e", "c")] * 11), {"pairs": [{"evidence": "e"}]}, {"claim": 1}]

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            good = [client.post("/v1/pairs", json=as_body(pairs)) for _ in range(4)]
            bad = [client.post("/v1/pairs", json=b) for b in bad_bodies]
            bad.append(client.post("/v1/pairs", content=b"[[", headers={"content-type": "application/json"}))
            return await asyncio.gather(*good, *bad)

    responses = asyncio.run(run())
    for good in responses[:4]:
        assert good.status_code == 200 and [p["label"] for p in good.json()["predictions"]] == expected
    assert [r.status_code for r in responses[4:]] == [422, 413, 422, 422, 422]
    app.state.batcher.close()


def test_build_app_from_the_serve_config(stance_model_dir):
    from stancekit.runs import build_app

    cfg = compose_config("serve", [f"model_dir={stance_model_dir}", "device=cpu", "precision=fp32", "batching=false"])
    with TestClient(build_app(cfg)) as client:
        assert client.post("/v1/pairs", json=as_body([("e", "c")])).status_code == 200
        info = client.get("/v1/model").json()
        assert info["batching"] is False
        # The server's default rounds batch lengths (a bounded set of kernel shapes); scripts that score a
        # file once keep each batch at its own longest pair.
        assert info["pad_to_multiple_of"] == 16
        assert info["torch_compile"] is False  # eager unless asked (torch_compile=true)
    assert compose_config("evaluate", ["model_dir=m", "data=sample"]).pad_to_multiple_of is None


def test_two_workers_answer_as_the_classifier_and_need_a_thread_safe_backend(clf, stance_model_dir):
    # workers=2: two forward passes may run at once, each on its share of the cores; same answers, in order.
    pairs = shuffled_sample_pairs()[:24]
    app = create_app(clf, stance_model_dir, serve_config(stance_model_dir, workers=2, max_wait_ms=20))
    with TestClient(app) as client:
        assert client.get("/v1/model").json()["workers"] == 2

        async def many() -> list:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as ac:
                return await asyncio.gather(*(ac.post("/v1/pairs", json=as_body([p])) for p in pairs))

        answers = asyncio.run(many())
    assert [r.json()["predictions"][0]["label"] for r in answers] == clf.predict(pairs)

    class Converted:  # a converted backend holds one inference request: never run from two threads
        backend, labels, num_threads = "openvino", clf.labels, 2

        def predict_proba(self, pairs):
            return clf.predict_proba(pairs)

    with pytest.raises(ValueError, match="workers=2 needs backend=torch"):
        create_app(Converted(), stance_model_dir, serve_config(stance_model_dir, workers=2))
    assert worker_options(Converted(), 1) == {"workers": 1}  # one worker suits every backend


def test_serve_sets_the_switch_interval_then_runs_uvicorn(stance_model_dir, monkeypatch):
    import importlib
    import sys

    serve_run = importlib.import_module("stancekit.runs.serve")  # the module (stancekit.runs.serve is the function)

    ran = {}
    monkeypatch.setattr(serve_run.uvicorn, "run", lambda app, **kw: ran.update(kw, interval=sys.getswitchinterval()))
    before = sys.getswitchinterval()
    try:
        overrides = [f"model_dir={stance_model_dir}", "device=cpu", "port=8123", "switch_interval_ms=0.2"]
        cfg = compose_config("serve", overrides)
        serve_run.serve(cfg)
    finally:
        sys.setswitchinterval(before)
    assert ran["interval"] == pytest.approx(0.0002) and ran["host"] == "127.0.0.1" and ran["port"] == 8123
