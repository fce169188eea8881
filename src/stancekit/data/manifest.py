"""The benchmark files' manifest (``manifest.json``, shipped with the package): for every data file under the
data root, its relative path, size, SHA-256, git blob sha and original URL at a pinned commit.

``stancekit.data.download`` reads it to fetch and verify the files. Maintainers rebuild it from a complete
data root (``python -m stancekit.data.manifest --from ../shared/data``) and check it (``--check``): every
file appears once, sizes and hashes are the local copies', and each file's repository, commit and path are
cross-checked against the folder's ``SOURCE.md`` (the repository and commit must be named there, the path
must be mentioned, and a git blob sha listed there must equal the file's ``git hash-object``).

Only data files are listed: ``README.md`` and the ``SOURCE.md`` files describe the data and are kept in the
data root's own distribution, not fetched.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ..artifacts import write_json

MANIFEST_PATH = Path(__file__).with_name("manifest.json")
RAW_URL = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"


@dataclass(frozen=True)
class ManifestEntry:
    """One data file: where it goes (``path``, relative to the data root), what it is, where it comes from."""

    path: str
    size: int
    sha256: str
    # `git hash-object` of the file: the blob sha GitHub lists for `url`'s path at that commit.
    git_blob: str
    url: str


@dataclass(frozen=True)
class Origin:
    """Files under ``local`` (a folder ending in ``/``, or one file) come from ``repo`` at ``commit``, at
    ``remote`` + the rest of their local path (a renamed file: ``local`` and ``remote`` are whole paths)."""

    local: str
    repo: str
    commit: str
    remote: str


UKP = ("UKPLab/coling2018_fake-news-challenge", "6446c4459b520b7f7713bc66117917e341d899dc")
FEVER_SYM = ("TalSchuster/FeverSymmetric", "fa25d17e73ea0694edc78133ec654b9f32f6db73")
# Transcribed from each folder's SOURCE.md ("Where the files came from"); check_origins re-reads those files.
ORIGINS = (
    Origin("anli/", "eric11eca/curriculum-ling", "1c79904f9be35204e1bd8c760fea5c8180d10b39", "data/anli_v1.0/"),
    Origin("arc_fnc/", *UKP, "data/fnc-1/corpora/ARC/"),
    Origin("averitec/", "yxCybSec/yhy-AVeriTeC-dataset", "df20f0bb4033099bd8bb5391f93639d3092c8f97", ""),
    Origin("cad_nli/", "acmi-lab/counterfactually-augmented-data", "6f232a1d2a11462a30ce08fb4825b734ab30828e", "NLI/"),
    Origin("check_covid/", "posuer/Check-COVID", "3ae70f8cac4df13a3ce56878e20d8e76790e422d", "Check-COVID/"),
    Origin("conjnli/", "swarnaHub/ConjNLI", "10e0515c0d1777651b5084d9cca4664ead8162a4", "data/NLI/"),
    Origin("fever_symmetric/v0.1/", *FEVER_SYM, "symmetric_v0.1/"),
    Origin("fever_symmetric/v0.2/", *FEVER_SYM, "symmetric_v0.2/"),
    Origin("fnc1/", "FakeNewsChallenge/fnc-1", "29d473af2d15278f0464d5e41e4cbe7eb58231f2", ""),
    Origin(
        "fnc1/train_stances_part1_ukp_9_1_train.csv",
        *UKP,
        "data/fnc-1/corpora/metaclassifier_corpus_9_1/train_train_stances.csv",
    ),
    Origin(
        "fnc1/train_stances_part2_ukp_9_1_test.csv",
        *UKP,
        "data/fnc-1/corpora/metaclassifier_corpus_9_1/train_test_stances.csv",
    ),
    Origin("fnc1/splits/", *UKP, "data/fnc-1/splits/"),
    Origin("lingnli/", "Alicia-Parrish/ling_in_loop", "9def304e19161efa3a3959349021e6a7860b0afe", "NLI_data/"),
    Origin("mnli/", "tommccoy1/hans", "7299f6f657089ce06a0f98e7e81f8d0f5b7741ce", "berts_of_a_feather/"),
    Origin("sick/", "kkalouli/SICK-processing", "0848f4aec60870122a4ca18de08ba0e25f6f9a75", ""),
    Origin("snli/", "OanaMariaCamburu/e-SNLI", "7b585a3f077fdea899780eb0473940522ae44a2e", "dataset/eSNLI/"),
    Origin("taxinli/", "microsoft/TaxiNLI", "60d89b03293c47b99288e24853a4cd3426bea437", ""),
    Origin("xnli/", "akhtet/myXNLI", "397fce4c163213dc132966ee5692b245b80886d3", "output/my/"),
)


class ManifestError(ValueError):
    """The manifest and the data root (or a SOURCE.md) disagree; the message names each file and field."""


def load_manifest(path: str | Path = MANIFEST_PATH) -> list[ManifestEntry]:
    """The entries of a manifest file (the packaged one by default), in path order."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [ManifestEntry(**row) for row in data["files"]]


def is_data_file(relative: str) -> bool:
    """Everything under the data root except its Markdown descriptions (README.md, */SOURCE.md)."""
    return not relative.endswith(".md")


def origin_of(relative: str) -> Origin:
    """The most specific origin covering ``relative`` (a renamed file beats its folder)."""
    matches = [o for o in ORIGINS if relative == o.local or (o.local.endswith("/") and relative.startswith(o.local))]
    if not matches:
        raise ManifestError(f"{relative}: no origin covers it; add one to stancekit.data.manifest.ORIGINS")
    return max(matches, key=lambda o: len(o.local))


def remote_path(relative: str, origin: Origin) -> str:
    """The file's path inside its repository."""
    return origin.remote if relative == origin.local else origin.remote + relative[len(origin.local) :]


def git_blob_sha(data: bytes) -> str:
    """What ``git hash-object`` prints for a file with these bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def build_manifest(root: str | Path) -> list[ManifestEntry]:
    """Entries for every data file under ``root``, each checked against its folder's SOURCE.md."""
    root = Path(root)
    entries = []
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = file.relative_to(root).as_posix()
        if not is_data_file(relative):
            continue
        origin = origin_of(relative)
        data = file.read_bytes()
        path = remote_path(relative, origin)
        url = RAW_URL.format(repo=origin.repo, commit=origin.commit, path=path)
        entries.append(ManifestEntry(relative, len(data), hashlib.sha256(data).hexdigest(), git_blob_sha(data), url))
    check_origins(root, entries)
    return entries


def _backticked_paths(text: str) -> set[str]:
    """The backticked spans of ``text``, with shell-style braces expanded (``R{1,2}/{dev,test}.jsonl``,
    ``round{1..5}``), as SOURCE.md writes families of files."""
    out = set()
    for span in re.findall(r"`([^`\s]+)`", text):
        parts = re.split(r"\{([^{}]*)\}", span)
        choices = []
        for i, part in enumerate(parts):
            if i % 2 == 0:
                choices.append([part])
            elif m := re.fullmatch(r"(\d+)\.\.(\d+)", part):
                choices.append([str(n) for n in range(int(m[1]), int(m[2]) + 1)])
            else:
                choices.append(part.split(","))
        out.update("".join(c) for c in itertools.product(*choices))
    return out


def _mentioned(path: str, spans: set[str]) -> bool:
    """Whether SOURCE.md names ``path``: whole, as one of its folders (``dir/``), or as ``.../name``."""
    return any(
        path == s or (s.endswith("/") and path.startswith(s)) or (s.startswith(".../") and path.endswith(s[3:]))
        for s in spans
    )


def _listed_blobs(folder: str, text: str, local_files: list[str]) -> dict[str, str]:
    """Git blob shas SOURCE.md lists: table rows `` | `file` | `sha` | `` and, in a one-file folder,
    "git sha `sha`" in its prose."""
    listed = {f"{folder}/{name}": sha for name, sha in re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{40})` \|", text, re.M)}
    prose = re.findall(r"git sha `([0-9a-f]{40})`", text)
    if len(local_files) == 1 and len(prose) == 1:
        listed.setdefault(local_files[0], prose[0])
    return listed


def check_origins(root: Path, entries: Sequence[ManifestEntry]) -> None:
    """Raise ManifestError unless each entry's repository, commit and path appear in its folder's SOURCE.md
    and every git blob sha listed there equals the local file's."""
    problems = []
    by_folder: dict[str, list[ManifestEntry]] = {}
    for e in entries:
        by_folder.setdefault(e.path.split("/")[0], []).append(e)
    for folder, group in sorted(by_folder.items()):
        source = root / folder / "SOURCE.md"
        if not source.is_file():
            problems.append(f"{folder}/SOURCE.md: missing")
            continue
        text = source.read_text(encoding="utf-8")
        spans = _backticked_paths(text)
        for e in group:
            origin = origin_of(e.path)
            if origin.repo not in text:
                problems.append(f"{e.path}: repo {origin.repo!r} is not named in {folder}/SOURCE.md")
            if f"`{origin.commit}`" not in text:
                problems.append(f"{e.path}: commit {origin.commit} is not given in {folder}/SOURCE.md")
            if not _mentioned(remote_path(e.path, origin), spans):
                problems.append(f"{e.path}: path {remote_path(e.path, origin)!r} is not in {folder}/SOURCE.md")
        blobs = {e.path: e.git_blob for e in group}
        for path, sha in _listed_blobs(folder, text, [e.path for e in group]).items():
            if path not in blobs:
                problems.append(f"{path}: listed in {folder}/SOURCE.md with git sha {sha} but not in the data root")
            elif blobs[path] != sha:
                problems.append(f"{path}: git_blob {blobs[path]} but {folder}/SOURCE.md lists {sha}")
    if problems:
        raise ManifestError("manifest does not match SOURCE.md:\n  " + "\n  ".join(problems))


def listed_blob_count(root: str | Path, entries: Sequence[ManifestEntry]) -> int:
    """How many entries' git blob shas SOURCE.md states explicitly (the others rest on its "byte-identical to
    the blob at that commit")."""
    root = Path(root)
    count = 0
    for folder in sorted({e.path.split("/")[0] for e in entries}):
        files = [e.path for e in entries if e.path.startswith(folder + "/")]
        count += len(_listed_blobs(folder, (root / folder / "SOURCE.md").read_text(encoding="utf-8"), files))
    return count


def compare(entries: Sequence[ManifestEntry], expected: Sequence[ManifestEntry]) -> list[str]:
    """Differences between two manifests, one line per file and field (empty when they agree)."""
    ours, theirs = {e.path: e for e in entries}, {e.path: e for e in expected}
    lines = [f"{p}: only in the data root" for p in sorted(ours.keys() - theirs.keys())]
    lines += [f"{p}: only in the manifest" for p in sorted(theirs.keys() - ours.keys())]
    for p in sorted(ours.keys() & theirs.keys()):
        a, b = asdict(ours[p]), asdict(theirs[p])
        lines += [f"{p}: {k} is {a[k]!r} in the data root, {b[k]!r} in the manifest" for k in a if a[k] != b[k]]
    return lines


def write_manifest(entries: Sequence[ManifestEntry], path: str | Path = MANIFEST_PATH) -> Path:
    """Write ``entries`` as a manifest file (atomically); paths must be unique."""
    seen = [e.path for e in entries]
    if len(seen) != len(set(seen)):
        raise ManifestError(f"repeated paths: {sorted({p for p in seen if seen.count(p) > 1})}")
    doc = {
        "about": "Benchmark data files: path under the data root, size in bytes, sha256, git blob sha and the "
        "original URL at a pinned commit. Built by `python -m stancekit.data.manifest --from DATA_ROOT`.",
        "files": [asdict(e) for e in sorted(entries, key=lambda e: e.path)],
    }
    return write_json(path, doc, ensure_ascii=False)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m stancekit.data.manifest --from ROOT [--check] [--out FILE]``: rebuild or check."""
    parser = argparse.ArgumentParser(prog="python -m stancekit.data.manifest", description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="root", required=True, help="a complete data root (../shared/data)")
    parser.add_argument("--out", default=str(MANIFEST_PATH), help="manifest to write or check")
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = parser.parse_args(argv)
    try:
        entries = build_manifest(args.root)
    except ManifestError as error:
        print(error, file=sys.stderr)
        return 1
    if args.check:
        diff = compare(entries, load_manifest(args.out))
        print("\n".join(diff) or f"{args.out}: {len(entries)} files, matches {args.root}")
        return 1 if diff else 0
    total = sum(e.size for e in entries)
    print(f"{write_manifest(entries, args.out)}: {len(entries)} files, {total:,} bytes")
    print(f"git blob shas listed in SOURCE.md and checked: {listed_blob_count(args.root, entries)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
