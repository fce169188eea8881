"""What many tests share: data roots, config composition, tiny training overrides and small file helpers."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir

from stancekit.config import CONFIG_DIR, PROJECT_ROOT

FIXTURE_ROOT = Path(__file__).parent / "fixtures" / "data"
SHARED_ROOT = Path(os.environ.get("STANCEKIT_DATA_ROOT", PROJECT_ROOT.parent / "shared" / "data"))
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"


def compose_config(name: str = "train", overrides: list[str] | None = None):
    """Compose a config the way the scripts do, without running Hydra's app (so no run folder)."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name=name, overrides=overrides or [])


def tiny_train_overrides(model_dir: Path, run_dir: Path, extra: list[str] | None = None) -> list[str]:
    """Overrides for a few-second training run on the bundled sample with the tiny model."""
    return [
        f"model.name_or_path={model_dir}",
        "model.max_length=64",
        f"paths.output_dir={run_dir}",
        "train=smoke",
        "train.device=cpu",
        "train.disable_tqdm=true",
        *(extra or []),
    ]


def jline(obj) -> str:
    """One JSON Lines line."""
    return json.dumps(obj) + "\n"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def write_case(folder: Path, name: str, content: str | bytes) -> Path:
    """A test input file with exactly these bytes (text is UTF-8 encoded)."""
    path = Path(folder) / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def temporary_files(folder: Path) -> list[Path]:
    """Temporary files an atomic write would have left behind in ``folder`` (there should be none)."""
    return sorted(Path(folder).glob("*.tmp")) + sorted(Path(folder).glob(".*.tmp"))


def shuffled_sample_pairs() -> list[tuple[str, str]]:
    """The sample's test pairs in a seeded random order, so that input order is not length order."""
    rows = read_jsonl(SAMPLE_DIR / "test.jsonl")
    pairs = [(r["premise"], r["hypothesis"]) for r in rows]
    random.Random(0).shuffle(pairs)
    return pairs


# Rows of our own JSONL format, good and bad variants of them, for the bad-input tests.
GOOD = {"id": "g1", "premise": "the council met on monday .", "hypothesis": "the council met .", "label": "support"}
GOOD2 = {"id": "g2", "premise": "the bridge is closed .", "hypothesis": "the bridge is open .", "label": "contradict"}


def with_(**kw) -> dict:
    return {**GOOD, "id": "bad", **kw}


def without(key: str) -> dict:
    return {k: v for k, v in GOOD.items() if k != key} | {"id": "bad"}


# A news-style article whose decisive sentence lies past a transformer's 512-token window.
CLAIM = "Putin would not oppose European peacekeepers in Ukraine."
DECISIVE = 'Lavrov ruled out such a proposal, and the Kremlin said it had "nothing to add".'


def filler(paragraph: int, n: int = 8) -> str:
    """A paragraph of distinct, neutral sentences (about 12 words each)."""
    return " ".join(
        f"Paragraph {paragraph} sentence {i} describes the weather, the traffic and the markets in some detail."
        for i in range(n)
    )


def long_article() -> str:
    """Seven paragraphs (~680 words); the contradicting sentence opens the last one, past word 512."""
    paragraphs = [filler(p) for p in range(6)]
    paragraphs.append(DECISIVE + " " + filler(6, 2))
    return "\n\n".join(paragraphs)


def run_script(script: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """``python scripts/<script>.py ARGS`` from the repository root, as a user runs it; fails the test (with
    the end of stderr) unless it exits 0."""
    command = [sys.executable, f"scripts/{script}.py", *args]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done
