"""The web page in a real browser (headless Chromium through Selenium) against a real uvicorn server: the
example loads and checks, evidence is highlighted at the right code points, errors show, nothing is fetched
from the internet, and the page fits a phone's width.

Debian's chromium and chromedriver are used as installed (Selenium Manager never downloads anything). Without
them the browser tests are skipped, except under CI (the ``CI`` environment variable), which installs them:
there a missing browser fails."""

from __future__ import annotations

import base64
import os
import re
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from omegaconf import OmegaConf

from stancekit.config import PROJECT_ROOT, ServeRunConfig
from stancekit.serve.app import STATIC_DIR

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WIDTH, HEIGHT = 390, 844
PAGE_FILES = ("index.html", "app.js", "style.css")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ANSWERS = ("support", "contradict", "neutral", "not sure")


def test_page_fetches_nothing_from_the_internet():
    for name in PAGE_FILES:
        text = (STATIC_DIR / name).read_text(encoding="utf-8")
        assert not re.findall(r"https?://", text, flags=re.I), f"{name} names an external URL"
        assert not re.findall(r"""(?:src|href)\s*=\s*["']//|url\(\s*["']?//""", text, flags=re.I), name
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    assert 'name="viewport"' in html and "/static/app.js" in html and "/static/style.css" in html


# ------------------------------------------------------------------------------------------- fixtures
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def base_url(stance_model_dir):
    """A real uvicorn server on a free loopback port, in a thread, serving the tiny model; its URL."""
    import uvicorn

    from stancekit import StanceClassifier
    from stancekit.serve import create_app

    cfg = OmegaConf.structured(ServeRunConfig(model_dir=str(stance_model_dir)))
    # The random tiny model's probabilities are near uniform: a low threshold (it must be > 0) and no claim
    # overlap requirement so that it has evidence to highlight.
    cfg.document.threshold = 0.01
    cfg.document.min_claim_overlap = 0
    classifier = StanceClassifier.from_pretrained(stance_model_dir, device="cpu", precision="fp32")
    app = create_app(classifier, stance_model_dir, cfg)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-test-page", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            pytest.fail("the uvicorn server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def driver():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        message = f"no browser for the page tests: {', '.join(missing)} missing (apt-get install chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument(f"--window-size={WIDTH},{HEIGHT}")
    # A driver path given to Service means Selenium Manager is never run (so never downloads anything).
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(20)
    # Chrome keeps a desktop window at least ~500 px wide whatever --window-size says: emulate the phone's
    # viewport (mobile, so the page's <meta name="viewport"> is honoured as on a phone).
    metrics = {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": True}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    yield browser
    browser.quit()


@pytest.fixture
def page(driver, base_url):
    driver.get(base_url + "/")
    return driver


# ------------------------------------------------------------------------------------------- helpers
def by_id(driver, element_id: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id)


def wait_for(driver, condition, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def set_value(driver, element_id: str, value: str) -> None:
    """Set a field's value as typing would (fast, and exact for any text, emoji included)."""
    driver.execute_script(
        "const el = document.getElementById(arguments[0]); el.value = arguments[1];"
        "el.dispatchEvent(new Event('input', {bubbles: true}));",
        element_id,
        value,
    )


def check_and_wait_for_verdict(driver) -> str:
    verdict = by_id(driver, "verdict")
    by_id(driver, "check").click()
    text = wait_for(driver, lambda d: verdict.text.strip())
    wait_for(driver, lambda d: by_id(d, "check").is_enabled())
    return text


def marks(driver) -> list:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "#article mark.evidence")


def api_document(base_url: str, claim: str, document: str, min_confidence: float | None) -> dict:
    body = {"claim": claim, "document": document, "min_confidence": min_confidence}
    response = httpx.post(base_url + "/v1/document", json=body, timeout=20)
    assert response.status_code == 200, response.text
    return response.json()


def full_page_png(driver) -> bytes:
    """A screenshot of the whole page (not only the viewport), at the phone width."""
    width, height = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    clip = {"x": 0, "y": 0, "width": width, "height": min(height, 6000), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    return base64.b64decode(shot["data"])


def no_horizontal_scroll(driver) -> bool:
    inner, scroll = driver.execute_script("return [window.innerWidth, document.documentElement.scrollWidth]")
    assert inner == WIDTH, f"the viewport is {inner} px wide, not the phone's {WIDTH}"
    return scroll <= inner + 1


# ------------------------------------------------------------------------------------------- tests
def test_example_is_checked_and_its_evidence_highlighted(page, base_url, tmp_path):
    assert by_id(page, "verdict").text == "" and not by_id(page, "error").is_displayed()
    wait_for(page, lambda d: "loading" not in by_id(d, "model-info").text)
    model_line = by_id(page, "model-info").text
    assert model_line.startswith("Model: ") and "unknown" not in model_line
    assert page.execute_script("return document.querySelector('a[href=\"/docs\"]') !== null")

    by_id(page, "example").click()
    claim, document = by_id(page, "claim").get_property("value"), by_id(page, "document").get_property("value")
    assert claim.strip() and len(document) > 200 and "What to know" in document
    assert by_id(page, "min-confidence").get_property("value") == "0.6"
    verdict = check_and_wait_for_verdict(page)
    assert any(answer in verdict.lower() for answer in ANSWERS), verdict

    # The page says what the API says for the same request.
    expected = api_document(base_url, claim, document, 0.6)
    assert verdict.lower() == ("not sure" if expected["abstained"] else expected["label"])
    if expected["abstained"]:
        assert expected["label"] in by_id(page, "verdict-note").text
    rows = page.execute_script("return [...document.querySelectorAll('#bars .bar-row')].map(r => r.dataset.label)")
    assert sorted(rows) == sorted(expected["probabilities"])
    assert all(re.search(r"\d+\.\d%", by_id(page, "bars").text) for _ in rows)

    highlighted = marks(page)
    assert highlighted, "no evidence highlighted"
    evidence_texts = {ev["text"] for ev in expected["evidence"]}
    for mark in highlighted:
        text = mark.get_property("textContent")
        assert text and text in document and text in evidence_texts
        label, score = mark.get_attribute("title").split()
        assert label in ("support", "contradict") and f"evidence {label}" in mark.get_attribute("class")
        assert 0 <= float(score) <= 1
    # The article is re-rendered whole: highlights and the plain text between them.
    assert by_id(page, "article").get_property("textContent") == document
    items = page.execute_script("return document.querySelectorAll('#evidence-list li').length")
    assert items == len(expected["evidence"]) > 0

    assert no_horizontal_scroll(page)
    png = full_page_png(page)
    artifacts = PROJECT_ROOT / "outputs" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    for path in (tmp_path / "page.png", artifacts / "serve_page.png"):
        path.write_bytes(png)
        saved = path.read_bytes()
        assert len(saved) > len(PNG_SIGNATURE) and saved.startswith(PNG_SIGNATURE)


def test_errors_are_shown_and_the_page_stays_usable(page, base_url):
    error = by_id(page, "error")
    by_id(page, "example").click()
    set_value(page, "claim", "   ")
    by_id(page, "check").click()
    wait_for(page, lambda d: error.is_displayed() and error.text.strip())
    assert "claim" in error.text and by_id(page, "check").is_enabled()
    assert by_id(page, "verdict").text == ""

    # An error from the API itself (422 naming the field) is shown as the API words it.
    set_value(page, "claim", "Russia would accept European peacekeepers in Ukraine.")
    set_value(page, "min-confidence", "2")
    by_id(page, "check").click()
    wait_for(page, lambda d: error.is_displayed() and "min_confidence" in error.text)
    assert by_id(page, "check").is_enabled() and by_id(page, "verdict").text == ""

    # Fixed, the same page checks again; offsets are code points (a flag emoji is 2 of them, 4 UTF-16 units).
    set_value(page, "min-confidence", "0")
    document = "Über den Plan: 🇪🇺 " + by_id(page, "document").get_property("value")
    set_value(page, "document", document)
    verdict = check_and_wait_for_verdict(page)
    assert not error.is_displayed()
    assert verdict.lower() in ("support", "contradict", "neutral")  # never abstains below 0
    expected = {
        ev["text"] for ev in api_document(base_url, by_id(page, "claim").get_property("value"), document, 0)["evidence"]
    }
    highlighted = [m.get_property("textContent") for m in marks(page)]
    assert highlighted and set(highlighted) <= expected
    assert by_id(page, "article").get_property("textContent") == document
    assert no_horizontal_scroll(page)


def test_api_docs_render_without_the_internet(driver, base_url):
    # Swagger UI's files come from the package (fastapi-offline), so /docs lists the endpoints offline too.
    driver.get(base_url + "/docs")
    wait_for(driver, lambda d: "/v1/pairs" in d.find_element("tag name", "body").text)
    body = driver.find_element("tag name", "body").text
    assert "/v1/document" in body and "/v1/model" in body
    scripts = driver.execute_script("return [...document.scripts].map(s => s.src).filter(Boolean)")
    assert scripts and all(src.startswith(base_url) for src in scripts)
