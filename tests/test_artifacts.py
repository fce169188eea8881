"""atomic_write: a file appears complete or not at all, and a failed write changes nothing."""

from __future__ import annotations

import json
import os
import stat

import matplotlib.pyplot as plt
import pytest

from stancekit.artifacts import atomic_path, atomic_write, save_figure, write_json, write_jsonl, write_text


def test_a_completed_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "metrics.json"  # the folder is made as needed
    write_json(target, {"a": 1})
    write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert os.listdir(target.parent) == ["metrics.json"]
    # Readable like any file the process writes (mkstemp's private 0600 is not kept).
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = write_text(tmp_path / "report.md", "old\n")
    with pytest.raises(RuntimeError, match="killed"), atomic_write(target) as handle:
        handle.write("half of the new report")
        raise RuntimeError("killed")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["report.md"]


def test_nothing_appears_when_the_first_write_fails(tmp_path):
    target = tmp_path / "predictions.jsonl"

    def rows():
        yield {"id": 1}
        raise ValueError("bad row")

    with pytest.raises(ValueError):
        write_jsonl(target, rows())
    assert not target.exists() and os.listdir(tmp_path) == []


def test_readers_never_see_a_partial_file(tmp_path):
    target = write_text(tmp_path / "x.txt", "complete\n")
    with atomic_write(target) as handle:
        handle.write("new")
        assert target.read_text() == "complete\n"  # the old file until the block ends
    assert target.read_text() == "new"


def test_binary_files_paths_and_figures(tmp_path):
    with atomic_write(tmp_path / "b.bin", "wb") as handle:
        handle.write(b"\x00\xff")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    with atomic_path(tmp_path / "model.onnx") as tmp:  # for writers that want a file name
        assert tmp.parent == tmp_path and tmp.name != "model.onnx"
        tmp.write_bytes(b"graph")
    assert (tmp_path / "model.onnx").read_bytes() == b"graph"
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    save_figure(fig, tmp_path / "plot.png")
    plt.close(fig)
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(os.listdir(tmp_path)) == ["b.bin", "model.onnx", "plot.png"]
    with pytest.raises(ValueError, match="for writing only"):
        with atomic_write(tmp_path / "c", "a"):
            pass


def test_undecodable_bytes_stay_writable_as_escapes(tmp_path):
    raw = b"caf\xe9".decode("utf-8", errors="surrogateescape")
    path = write_jsonl(tmp_path / "skipped.jsonl", [{"raw": raw}], ensure_ascii=True)
    assert "\\udce9" in path.read_text()
