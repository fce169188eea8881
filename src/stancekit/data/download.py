"""Fetch the benchmark files into a data root, laid out as the configs expect (``stancekit data download``).

Each file in the packaged manifest (``stancekit.data.manifest``) is fetched with pooch from its original URL
at a pinned commit, or from a mirror laid out like the data root (``base_url``), and its SHA-256 is checked
before it takes its place. pooch streams into a temporary file in the destination folder and renames it only
when the hash matches, so a file is never half-written or wrong under its own name. A file already present
with the right hash is not fetched again: rerunning after an interruption fetches only what is missing or
wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pooch
import requests
from omegaconf import DictConfig

from ..artifacts import sha256_file
from .errors import DataError
from .manifest import ManifestEntry, load_manifest

log = logging.getLogger(__name__)


class DownloadError(RuntimeError):
    """Some files could not be fetched or failed their hash check; one DataError per file, each naming it."""

    def __init__(self, errors: Sequence[DataError]):
        self.errors = list(errors)
        lines = "\n  ".join(str(e) for e in self.errors)
        super().__init__(f"{len(self.errors)} file(s) not downloaded:\n  {lines}")


@dataclass
class DownloadSummary:
    """What a download did: relative paths fetched now and already present (with the right hash)."""

    root: Path
    fetched: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    bytes_fetched: int = 0

    def describe(self) -> str:
        """One line for people."""
        return (
            f"{self.root}: {len(self.fetched)} file(s) fetched ({self.bytes_fetched / 1e6:.1f} MB), "
            f"{len(self.present)} already present and verified"
        )


def select_entries(entries: Sequence[ManifestEntry], only: Sequence[str] = ()) -> list[ManifestEntry]:
    """The entries under the folders or files named in ``only`` (relative to the data root); all if empty.

    A name that matches no entry is an error (a typo would otherwise fetch nothing and look like success).
    """
    if not only:
        return list(entries)
    wanted = [name.strip("/") for name in only]
    unknown = [raw for raw, n in zip(only, wanted) if not n or not any(_under(e.path, n) for e in entries)]
    if unknown:
        folders = sorted({e.path.split("/")[0] for e in entries})
        raise ValueError(f"only: {unknown} match no file in the manifest; its folders are {folders}")
    return [e for e in entries if any(_under(e.path, n) for n in wanted)]


def _under(path: str, name: str) -> bool:
    return path == name or path.startswith(name + "/")


def entry_url(entry: ManifestEntry, base_url: str | None = None) -> str:
    """Where to fetch ``entry``: its original URL, or ``base_url`` + its relative path (a mirror)."""
    if base_url is None:
        return entry.url
    return base_url.rstrip("/") + "/" + quote(entry.path, safe="/+")


def is_present(entry: ManifestEntry, root: Path) -> bool:
    """Whether ``root/entry.path`` exists with the manifest's size and hash (size first: it is free)."""
    path = root / entry.path
    return path.is_file() and path.stat().st_size == entry.size and sha256_file(path) == entry.sha256


class _HashRecorder:
    """A pooch downloader that remembers the SHA-256 of what it wrote, so that a refused file's error can
    give both hashes (pooch deletes the temporary file before its ValueError reaches us)."""

    def __init__(self, progressbar: bool):
        self.inner: Callable[..., Any] = pooch.HTTPDownloader(progressbar=progressbar)
        self.last_sha256: str | None = None

    def __call__(self, url: str, output_file: Any, pooch_obj: Any) -> None:
        self.last_sha256 = None
        self.inner(url, output_file, pooch_obj)
        if isinstance(output_file, (str, Path)):  # pooch.retrieve passes its temporary file's name
            self.last_sha256 = sha256_file(Path(output_file))


def fetch_one(entry: ManifestEntry, root: Path, url: str, progressbar: bool = True) -> None:
    """Fetch one file into ``root/entry.path``; raise DataError (naming the file) if it fails or its hash
    does not match, leaving no file under that name."""
    dest = root / entry.path
    if dest.exists():  # present but wrong (is_present said so): never leave it looking like a good copy
        log.warning("%s: hash does not match the manifest; fetching it again", entry.path)
        dest.unlink()
    recorder = _HashRecorder(progressbar)
    try:
        pooch.retrieve(
            url,
            known_hash=f"sha256:{entry.sha256}",
            fname=dest.name,
            path=dest.parent,
            downloader=recorder,
            progressbar=progressbar,
        )
    except ValueError as error:  # pooch's hash mismatch (the file was written), or a URL it cannot fetch
        if recorder.last_sha256 is None:
            raise DataError(entry.path, None, "url", f"could not fetch {url}: {error}") from error
        problem = f"downloaded from {url} has sha256 {recorder.last_sha256}, the manifest says {entry.sha256}; not kept"
        raise DataError(entry.path, None, "sha256", problem) from error
    except (requests.RequestException, OSError) as error:
        raise DataError(entry.path, None, "url", f"could not fetch {url}: {error}") from error


def download_data(
    root: str | Path,
    base_url: str | None = None,
    only: Sequence[str] = (),
    progressbar: bool = True,
    entries: Sequence[ManifestEntry] | None = None,
) -> DownloadSummary:
    """Fetch every manifest file (or those under ``only``) into ``root`` and verify it; files already there
    with the right hash are kept. Every file is attempted; then DownloadError lists the ones that failed."""
    root = Path(root).expanduser().resolve()
    chosen = select_entries(load_manifest() if entries is None else entries, only)
    summary = DownloadSummary(root)
    errors = []
    with _quiet_pooch():
        for entry in chosen:
            if is_present(entry, root):
                summary.present.append(entry.path)
                continue
            url = entry_url(entry, base_url)
            log.info("fetching %s (%s bytes) from %s", entry.path, f"{entry.size:,}", url)
            try:
                fetch_one(entry, root, url, progressbar)
            except DataError as error:
                log.error("%s", error)
                errors.append(error)
                continue
            summary.fetched.append(entry.path)
            summary.bytes_fetched += entry.size
    if errors:
        raise DownloadError(errors)
    return summary


@contextmanager
def _quiet_pooch() -> Iterator[None]:
    """pooch logs each download at INFO; our own line says the same with the relative path."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def download_from_config(cfg: DictConfig) -> DownloadSummary:
    """``scripts/download_data.py``: download_data with a DownloadRunConfig (destination: paths.data_root)."""
    summary = download_data(
        cfg.paths.data_root,
        base_url=cfg.base_url,
        only=list(cfg.only),
        progressbar=cfg.progressbar,
    )
    log.info("%s", summary.describe())
    return summary
