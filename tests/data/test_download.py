"""`stancekit data download`: the manifest matches the data root, a download from a local mirror reproduces it
byte for byte, a rerun fetches nothing, and a file with the wrong hash is refused and not kept."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stancekit.cli import main
from stancekit.data.download import DownloadError, download_data, download_from_config, entry_url, select_entries
from stancekit.data.manifest import ManifestError, build_manifest, compare, is_data_file, load_manifest
from tests.helpers import SHARED_ROOT, compose_config

needs_shared = pytest.mark.skipif(not (SHARED_ROOT / "snli").is_dir(), reason=f"{SHARED_ROOT} not present")
SMALL = ["anli/README.txt", "fnc1/splits/hold_out_ids.txt", "fnc1/splits/training_ids.txt"]


class _Handler(SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format, *args):  # noqa: A002 - the base class's name; keep test output clean
        pass

    def do_GET(self):
        self.requests.append(self.path)
        super().do_GET()


@contextmanager
def serve(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 serving ``folder``: (base URL, paths requested so far)."""
    requested: list[str] = []
    handler = type("Handler", (_Handler,), {"requests": requested})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", requested
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    # A proxy from the environment must not intercept the loopback server.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def data_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def mirror(tmp_path: Path, paths: list[str]) -> Path:
    """A mirror holding copies of some of the data root's files."""
    root = tmp_path / "mirror"
    for rel in paths:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED_ROOT / rel, root / rel)
    return root


# --------------------------------------------------------------------------------------------- manifest
@needs_shared
def test_the_manifest_lists_every_data_file_once_with_its_size_and_hashes():
    """Rebuilt from the data root (and its SOURCE.md files), the manifest is the packaged one."""
    entries = load_manifest()
    paths = [e.path for e in entries]
    assert len(paths) == len(set(paths)) and paths == sorted(paths)
    assert paths == [p for p in data_files(SHARED_ROOT) if is_data_file(p)]
    assert compare(build_manifest(SHARED_ROOT), entries) == []
    urls = [e.url for e in entries]
    assert len(set(urls)) == len(urls)
    assert all(u.startswith("https://raw.githubusercontent.com/") for u in urls)


@needs_shared
def test_the_manifest_checks_can_fail(tmp_path):
    root = tmp_path / "root"
    shutil.copytree(SHARED_ROOT / "cad_nli", root / "cad_nli")
    assert [e.path for e in build_manifest(root)] == [
        "cad_nli/all_combined/train.tsv",
        "cad_nli/original/train.tsv",
        "cad_nli/revised_combined/train.tsv",
    ]
    edited = root / "cad_nli" / "original" / "train.tsv"
    edited.write_bytes(edited.read_bytes() + b"x")
    with pytest.raises(ManifestError, match=r"cad_nli/original/train.tsv: git_blob \w+ but cad_nli/SOURCE.md lists"):
        build_manifest(root)
    source = root / "cad_nli" / "SOURCE.md"
    source.write_text(source.read_text().replace("6f232a1d2a11462a30ce08fb4825b734ab30828e", "another"))
    with pytest.raises(ManifestError, match="commit 6f232a1d2a11462a30ce08fb4825b734ab30828e is not given"):
        build_manifest(root)
    (root / "nowhere").mkdir()
    (root / "nowhere" / "x.txt").write_text("x")
    with pytest.raises(ManifestError, match="nowhere/x.txt: no origin covers it"):
        build_manifest(root)


def test_only_and_mirror_urls():
    entries = load_manifest()
    assert {e.path for e in select_entries(entries, ["fnc1/splits/", "anli/README.txt"])} == set(SMALL)
    assert len(select_entries(entries, [])) == len(entries)
    with pytest.raises(ValueError, match=r"\['fnc', 'snli/s9.dev'\] match no file"):
        select_entries(entries, ["fnc", "snli/s9.dev", "snli"])
    plus = next(e for e in entries if "+" in e.path)
    assert entry_url(plus, "http://m.example/d/") == f"http://m.example/d/{plus.path}"
    assert entry_url(plus) == plus.url and "/3ae70f8cac4df13a3ce56878e20d8e76790e422d/Check-COVID/" in plus.url


# --------------------------------------------------------------------------------------------- download
@needs_shared
def test_download_everything_then_nothing_then_only_what_is_wrong(tmp_path):
    dest = tmp_path / "data"
    entries = load_manifest()
    with serve(SHARED_ROOT) as (url, requested):
        summary = download_data(dest, base_url=url, progressbar=False)
        assert sorted(summary.fetched) == [e.path for e in entries] and not summary.present
        assert len(requested) == len(entries)
        # Byte for byte the data root's copies, and nothing else (no temporary file left behind).
        assert data_files(dest) == [e.path for e in entries]
        for e in entries:
            assert (dest / e.path).read_bytes() == (SHARED_ROOT / e.path).read_bytes(), e.path
        mtimes = {p: (dest / p).stat().st_mtime_ns for p in data_files(dest)}

        again = download_data(dest, base_url=url, progressbar=False)
        assert again.fetched == [] and len(again.present) == len(entries)
        assert len(requested) == len(entries), "a rerun with every file in place requests nothing"
        assert {p: (dest / p).stat().st_mtime_ns for p in data_files(dest)} == mtimes

        # Resume: a missing file and a damaged one are fetched again, and only they.
        (dest / "snli" / "labels.dev").unlink()
        (dest / "sick" / "SICK.txt").write_bytes(b"truncated")
        fixed = download_data(dest, base_url=url, only=["snli", "sick"], progressbar=False)
        assert sorted(fixed.fetched) == ["sick/SICK.txt", "snli/labels.dev"]
        assert requested[len(entries) :] == ["/sick/SICK.txt", "/snli/labels.dev"]
    assert (dest / "sick" / "SICK.txt").read_bytes() == (SHARED_ROOT / "sick" / "SICK.txt").read_bytes()


@needs_shared
def test_a_file_with_the_wrong_hash_is_refused_and_not_kept(tmp_path):
    root = mirror(tmp_path, SMALL)
    bad = root / "fnc1" / "splits" / "hold_out_ids.txt"
    bad.write_bytes(bad.read_bytes().replace(b"1", b"2", 1))
    bad_sha = hashlib.sha256(bad.read_bytes()).hexdigest()
    good_sha = next(e.sha256 for e in load_manifest() if e.path == "fnc1/splits/hold_out_ids.txt")
    dest = tmp_path / "data"
    # A stale wrong copy at the destination must not survive either.
    (dest / "fnc1" / "splits").mkdir(parents=True)
    (dest / "fnc1" / "splits" / "hold_out_ids.txt").write_text("stale")
    with serve(root) as (url, _), pytest.raises(DownloadError) as caught:
        # anli/R1/dev.jsonl is not on this mirror: a 404, reported with its file too.
        download_data(dest, base_url=url, only=[*SMALL, "anli/R1/dev.jsonl"], progressbar=True)
    message = str(caught.value)
    assert "2 file(s) not downloaded" in message
    assert f"fnc1/splits/hold_out_ids.txt, field 'sha256': downloaded from {url}fnc1/splits/hold_out_ids.txt" in message
    assert bad_sha in message and good_sha in message
    assert "anli/R1/dev.jsonl, field 'url'" in message and "404" in message
    assert [e.path for e in caught.value.errors] == ["anli/R1/dev.jsonl", "fnc1/splits/hold_out_ids.txt"]
    # The good files arrived; the bad one is not there under its name, and no temporary file is left.
    assert data_files(dest) == ["anli/README.txt", "fnc1/splits/training_ids.txt"]


@needs_shared
def test_the_config_drives_the_download(tmp_path, monkeypatch):
    monkeypatch.setenv("STANCEKIT_DATA_ROOT", str(tmp_path / "env-root"))
    cfg = compose_config("download_data", ["paths.output_dir=/tmp/x"])
    assert cfg.base_url is None and list(cfg.only) == [] and cfg.progressbar is True
    assert cfg.paths.data_root == str(tmp_path / "env-root")
    with serve(mirror(tmp_path, SMALL)) as (url, requested):
        cfg = compose_config("download_data", [f"base_url={url}", "only=[fnc1/splits]", "progressbar=false"])
        summary = download_from_config(cfg)
    assert sorted(summary.fetched) == SMALL[1:] and sorted(requested) == [f"/{p}" for p in SMALL[1:]]
    assert data_files(tmp_path / "env-root") == SMALL[1:]


# -------------------------------------------------------------------------------------------------- CLI
def test_the_data_command_needs_a_known_subcommand(capsys):
    assert main([]) == 0 and "data download" in capsys.readouterr().out
    assert main(["data"]) == 2 and "a subcommand is needed (download)" in capsys.readouterr().err
    assert main(["data", "upload"]) == 2 and "unknown subcommand 'upload'" in capsys.readouterr().err
    assert main(["data", "--help"]) == 0 and "data download" in capsys.readouterr().out


def test_data_download_passes_overrides_to_hydra(tmp_path):
    command = [sys.executable, "-m", "stancekit", "data", "download", "--cfg", "job"]
    done = subprocess.run(
        [*command, "base_url=http://m.example", "only=[snli]"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "base_url: http://m.example" in done.stdout and "- snli" in done.stdout
    assert "progressbar: true" in done.stdout


@needs_shared
def test_data_download_runs_end_to_end(tmp_path):
    dest = tmp_path / "data"
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
    with serve(mirror(tmp_path, SMALL)) as (url, _):
        args = [f"paths.data_root={dest}", f"base_url={url}", "only=[fnc1/splits]", f"hydra.run.dir={tmp_path}/run"]
        done = subprocess.run(
            [sys.executable, "-m", "stancekit", "data", "download", *args], capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "2 file(s) fetched" in done.stdout
        bad = subprocess.run(
            [sys.executable, "-m", "stancekit", "data", "download", *args[:2], "only=[snli]", args[3]],
            capture_output=True,
            text=True,
            env=env,
        )
    assert data_files(dest) == SMALL[1:]
    assert bad.returncode == 1 and "snli/labels.dev, field 'url'" in bad.stderr and "Traceback" not in bad.stderr


def test_every_file_a_data_config_reads_is_in_the_manifest():
    """`make data` gives every config its files: each local path a built-in source names is a manifest file
    (or, for line-aligned SNLI, a folder of them)."""
    listed = {entry.path for entry in load_manifest()}
    folders = {path.rsplit("/", 1)[0] for path in listed}
    missing = []
    for config in sorted((Path(__file__).parents[2] / "configs" / "data").glob("*.yaml")):
        data = compose_config("train", [f"data={config.stem}", "paths.output_dir=/tmp/x"]).data
        for split in ("train", "validation", "test", "held_out"):
            for src in data[split]:
                if src.hub_id:
                    continue
                for path in [*src.files, src.bodies_file, src.body_ids_file]:
                    if path and not Path(path).is_absolute() and path not in listed and path not in folders:
                        missing.append(f"data={config.stem} {split} {src.name}: {path}")
    assert not missing
