"""Atomic writes: every result, prediction and model file appears complete or not at all.

Why: a run can be killed at any moment (out of memory, a cluster's time limit, Ctrl-C). A reader that finds
``metrics.json`` or ``predictions.jsonl`` must be able to trust it, so each is written under a temporary
name in the same folder, flushed to disk (``fsync``) and renamed over the target, which POSIX makes atomic.
Readers see the old file or the new one, never half of one; a failed write leaves the old file untouched
and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once, at import: reading it means setting it for a moment, which another thread could notice.
_UMASK = _read_umask()


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A fresh temporary path beside ``path``, renamed onto it when the block ends without an error.

    For writers that want a file name rather than a handle (``torch.onnx.export``, ONNX Runtime's quantiser).
    The file is fsynced before the rename and gets the permissions a plain ``open`` would give it; on an
    error it is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb+") as written:
            os.fsync(written.fileno())
        # mkstemp creates the file private (0600); results and models should be as readable as any file.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str = "utf-8") -> Iterator[IO[Any]]:
    """Open ``path`` for writing through a temporary file that replaces it only once complete.

    ``mode`` is ``"w"`` (text, ``encoding``) or ``"wb"``. Use it for every file a person or a later run
    reads: ``with atomic_write(run_dir / "metrics.json") as f: json.dump(metrics, f)``.
    """
    if mode not in {"w", "wb"}:
        raise ValueError(f"atomic_write opens files for writing only ('w' or 'wb'), not {mode!r}")
    with atomic_path(path) as tmp, tmp.open(mode, encoding=None if mode == "wb" else encoding) as handle:
        yield handle
        handle.flush()


def write_text(path: str | Path, text: str) -> Path:
    """Write a whole text file atomically; return its path."""
    with atomic_write(path) as handle:
        handle.write(text)
    return Path(path)


def write_json(path: str | Path, obj: Any, **dumps: Any) -> Path:
    """Write one JSON document (indented, newline-terminated) atomically; return its path."""
    return write_text(path, json.dumps(obj, indent=2, **dumps) + "\n")


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]], ensure_ascii: bool = False) -> Path:
    """Write one JSON object per line atomically; return its path.

    ``ensure_ascii=True`` escapes every non-ASCII character, which keeps undecodable input bytes (lone
    surrogates from ``surrogateescape``) writable.
    """
    with atomic_write(path) as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=ensure_ascii) + "\n")
    return Path(path)


def save_figure(fig: Any, path: str | Path, **savefig: Any) -> Path:
    """``fig.savefig`` through :func:`atomic_write`, so a crash never leaves a truncated image."""
    path = Path(path)
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format=path.suffix.lstrip(".") or "png", **savefig)
    return path


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks (weights can be gigabytes)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
