// The stancekit web page: a claim and an article go to POST /v1/document; the answer is shown as a verdict,
// confidence bars, the article with its evidence sentences highlighted, and the evidence list.
// No frameworks and nothing from the internet. User text only ever reaches the page through textContent and
// text nodes, never innerHTML.
"use strict";

(() => {
  const LABELS = ["support", "contradict", "neutral"];
  const VERDICT_NOTES = {
    support: "The article supports the claim.",
    contradict: "The article contradicts the claim.",
    neutral: "The article says nothing for or against the claim.",
  };

  const EXAMPLE_CLAIM = "Russia would accept European peacekeepers in Ukraine.";
  const EXAMPLE_DOCUMENT = [
    "Moscow rejects European peacekeeper plan for Ukraine",
    "What to know",
    "The French president proposed on Tuesday that European troops could serve as peacekeepers in Ukraine " +
      "once a ceasefire takes hold.",
    "Several European governments said they were ready to contribute soldiers to such a force.",
    "ALEXANDER NEMENOV/AFP via Getty Images",
    "Russia's foreign minister ruled out such a proposal, telling reporters in Moscow that any European " +
      "troops on Ukrainian soil would be treated as a party to the conflict.",
    "Asked about the plan later in the day, the Kremlin spokesman said he had nothing to add to the " +
      "minister's remarks.",
    "European officials said talks on the size and mandate of a possible force would continue next week.",
  ].join("\n");

  const $ = (id) => document.getElementById(id);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const percent = (p) => `${(100 * p).toFixed(1)}%`;

  let labels = LABELS.slice();
  let busy = false;

  // ------------------------------------------------------------------------------------------ showing
  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = false;
  }

  function clearError() {
    const box = $("error");
    box.textContent = "";
    box.hidden = true;
  }

  function clearResult() {
    $("result").hidden = true;
    for (const id of ["verdict", "verdict-note", "bars", "article", "evidence-list", "counts"]) {
      $(id).replaceChildren();
    }
    $("no-evidence").hidden = true;
  }

  function setBusy(on) {
    busy = on;
    const button = $("check");
    button.disabled = on;
    button.classList.toggle("busy", on);
    button.textContent = on ? "Checking…" : "Check";
    $("form").setAttribute("aria-busy", String(on));
  }

  function showVerdict(body, minConfidence) {
    const box = $("verdict-box");
    const verdict = $("verdict");
    const note = $("verdict-note");
    box.className = "verdict-box";
    if (body.abstained) {
      box.classList.add("unsure");
      verdict.textContent = "Not sure";
      const below = minConfidence === null ? "below the server's abstain threshold" : `below ${percent(minConfidence)}`;
      note.textContent = `Best guess: ${body.label} (${percent(body.confidence)}, ${below}). Have a person check it.`;
    } else {
      box.classList.add(body.label);
      verdict.textContent = body.label;
      note.textContent = `${VERDICT_NOTES[body.label] || ""} Confidence ${percent(body.confidence)}.`;
    }
  }

  function showBars(probabilities, best) {
    const bars = $("bars");
    const order = labels.filter((l) => l in probabilities).concat(
      Object.keys(probabilities).filter((l) => !labels.includes(l)),
    );
    for (const label of order) {
      const p = Number(probabilities[label]) || 0;
      const row = el("div", `bar-row ${label}${label === best ? " best" : ""}`);
      row.dataset.label = label;
      const name = el("span", "bar-name", label);
      const track = el("span", "bar-track");
      track.setAttribute("role", "meter");
      track.setAttribute("aria-valuemin", "0");
      track.setAttribute("aria-valuemax", "100");
      track.setAttribute("aria-valuenow", (100 * p).toFixed(1));
      track.setAttribute("aria-label", `${label} probability`);
      const fill = el("span", "bar-fill");
      fill.style.width = `${Math.max(0, Math.min(100, 100 * p))}%`;
      track.append(fill);
      row.append(name, track, el("span", "bar-value", percent(p)));
      bars.append(row);
    }
  }

  // The evidence's offsets are Unicode code points (Python str indices): slice an array of code points,
  // never the UTF-16 string. Units are highlighted in document order; one overlapping an earlier one is skipped.
  function showArticle(text, evidence) {
    const article = $("article");
    const chars = Array.from(text);
    const units = evidence
      .map((ev, rank) => ({ ...ev, rank }))
      .filter((ev) => Number.isInteger(ev.start) && Number.isInteger(ev.end) && ev.start < ev.end)
      .sort((a, b) => a.start - b.start || b.end - a.end);
    let at = 0;
    const shown = new Set();
    for (const ev of units) {
      if (ev.start < at || ev.end > chars.length) continue;
      if (ev.start > at) article.append(document.createTextNode(chars.slice(at, ev.start).join("")));
      const mark = el("mark", `evidence ${ev.label}`, chars.slice(ev.start, ev.end).join(""));
      mark.title = `${ev.label} ${Number(ev.score).toFixed(2)}`;
      mark.id = `evidence-${ev.rank}`;
      mark.tabIndex = 0;
      article.append(mark);
      shown.add(ev.rank);
      at = ev.end;
    }
    if (at < chars.length) article.append(document.createTextNode(chars.slice(at).join("")));
    return shown;
  }

  function showEvidence(evidence, shown) {
    const list = $("evidence-list");
    $("no-evidence").hidden = evidence.length > 0;
    evidence.forEach((ev, rank) => {
      const item = el("li", `evidence-item ${ev.label}`);
      const head = el("div", "evidence-head");
      head.append(el("span", `badge ${ev.label}`, ev.label), el("span", "score", Number(ev.score).toFixed(2)));
      if (shown.has(rank)) {
        const jump = el("button", "link", "show in article");
        jump.type = "button";
        jump.addEventListener("click", () => {
          const mark = $(`evidence-${rank}`);
          mark.scrollIntoView({ behavior: "smooth", block: "center" });
          mark.classList.remove("flash");
          void mark.offsetWidth; // restart the animation
          mark.classList.add("flash");
          mark.focus({ preventScroll: true });
        });
        head.append(jump);
      }
      item.append(head, el("p", "evidence-text", ev.text));
      list.append(item);
    });
  }

  function showResult(body, text, minConfidence) {
    clearResult();
    showVerdict(body, minConfidence);
    showBars(body.probabilities || {}, body.label);
    const evidence = Array.isArray(body.evidence) ? body.evidence : [];
    showEvidence(evidence, showArticle(text, evidence));
    const sentences = `${body.n_sentences} sentence${body.n_sentences === 1 ? "" : "s"}`;
    $("counts").textContent = `${sentences}; ${body.n_units} unit${body.n_units === 1 ? "" : "s"} scored.`;
    $("result").hidden = false;
  }

  // ------------------------------------------------------------------------------------------ talking
  async function errorMessage(response) {
    let message = `${response.status} ${response.statusText}`.trim();
    try {
      const body = await response.json();
      if (body && typeof body.error === "string") message = body.error;
      else if (body && body.detail) message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch {
      // not JSON: keep the status line
    }
    return message;
  }

  async function check(event) {
    event.preventDefault();
    if (busy) return;
    clearError();
    const claim = $("claim").value;
    const text = $("document").value;
    const raw = $("min-confidence").value.trim();
    const minConfidence = raw === "" ? null : Number(raw);
    if (!claim.trim()) return showError("claim: enter the claim to check.");
    if (!text.trim()) return showError("document: paste the article (or one evidence sentence).");
    if (raw !== "" && !Number.isFinite(minConfidence)) return showError("min_confidence: enter a number from 0 to 1.");

    clearResult();
    setBusy(true);
    try {
      const response = await fetch("/v1/document", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ claim, document: text, min_confidence: minConfidence }),
      });
      if (!response.ok) {
        showError(await errorMessage(response));
        return;
      }
      showResult(await response.json(), text, minConfidence);
    } catch (err) {
      showError(`Could not reach the server (${err.message || err}). Is it still running?`);
    } finally {
      setBusy(false);
    }
  }

  async function loadModel() {
    const line = $("model-info");
    try {
      const response = await fetch("/v1/model", { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(await errorMessage(response));
      const info = await response.json();
      if (Array.isArray(info.labels) && info.labels.length) labels = info.labels.slice();
      const parts = [`Model: ${info.name || "unnamed"}`];
      if (info.base_model) parts.push(`base ${info.base_model}`);
      if (info.data_config) parts.push(`trained on ${info.data_config}`);
      const tests = Array.isArray(info.test) ? info.test : [];
      for (const row of tests.slice(0, 3)) {
        if (row && row.set && row["macro-F1"] !== undefined) parts.push(`${row.set} macro-F1 ${row["macro-F1"]}`);
      }
      line.textContent = parts.join(" · ");
    } catch (err) {
      line.textContent = `Model: unknown (${err.message || err})`;
    }
  }

  function loadExample() {
    $("claim").value = EXAMPLE_CLAIM;
    $("document").value = EXAMPLE_DOCUMENT;
    clearError();
    $("check").focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("form").addEventListener("submit", check);
    $("example").addEventListener("click", loadExample);
    // Ctrl/Cmd+Enter in either text area checks, as in most editors.
    for (const id of ["claim", "document"]) {
      $(id).addEventListener("keydown", (event) => {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("form").requestSubmit();
      });
    }
    loadModel();
  });
})();
