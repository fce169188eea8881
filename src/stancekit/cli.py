"""The ``stancekit`` command: ``stancekit train|evaluate|predict|calibrate|baseline|serve [Hydra overrides]``,
``stancekit data download [Hydra overrides]`` and ``stancekit tune document [Hydra overrides]``.

Each command runs the matching Hydra app in ``scripts/`` with the overrides passed through unchanged, so
``stancekit train experiment=nli_mix`` and ``python scripts/train.py experiment=nli_mix`` are the same run
(the same configs, run folder and multirun flags).
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Sequence

from .config import PROJECT_ROOT

COMMANDS = {
    "train": "fine-tune a stance classifier (configs/train.yaml)",
    "evaluate": "score a saved model on labelled data (configs/evaluate.yaml)",
    "predict": "label an unlabelled JSONL file (configs/predict.yaml)",
    "calibrate": "fit a saved model's temperature on a validation split (configs/calibrate.yaml)",
    "baseline": "score a reference baseline like a model (configs/baseline.yaml)",
    "serve": "serve a saved model: web page and JSON API (configs/serve.yaml)",
}
# Commands with a subcommand: `stancekit data download` runs scripts/download_data.py.
GROUPS = {
    "data": {
        "download": ("download_data", "fetch the benchmark files into paths.data_root (configs/download_data.yaml)")
    },
    "tune": {
        "document": ("tune_document", "tune document.* options on a validation split (configs/tune_document.yaml)")
    },
}


def usage() -> str:
    entries = dict(COMMANDS)
    entries |= {f"{group} {sub}": what for group, subs in GROUPS.items() for sub, (_, what) in subs.items()}
    width = max(map(len, entries))
    lines = ["usage: stancekit COMMAND [hydra overrides ...]", "", "commands:"]
    lines += [f"  {name:<{width}}  {what}" for name, what in entries.items()]
    lines += ["", "`stancekit COMMAND --help` shows the command's config; overrides are Hydra's (key=value, -m, ...)."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``scripts/<command>.py`` as ``__main__`` with the remaining arguments; return an exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0
    command, rest = args[0], args[1:]
    if command in GROUPS:
        subcommands = GROUPS[command]
        if rest and rest[0] in {"-h", "--help"}:
            print(usage())
            return 0
        if not rest or rest[0] not in subcommands:
            what = f"unknown subcommand {rest[0]!r}" if rest else "a subcommand is needed"
            print(f"stancekit {command}: {what} ({', '.join(subcommands)})\n\n{usage()}", file=sys.stderr)
            return 2
        return run_script(subcommands[rest[0]][0], rest[1:])
    if command not in COMMANDS:
        print(f"stancekit: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    return run_script(command, rest)


def run_script(name: str, rest: Sequence[str]) -> int:
    """Run ``scripts/<name>.py`` as ``__main__`` with ``rest`` as its arguments; return an exit status."""
    script = PROJECT_ROOT / "scripts" / f"{name}.py"
    if not script.is_file():
        print(f"stancekit: {script} is missing; the command runs the scripts of a source checkout", file=sys.stderr)
        return 2
    saved = sys.argv
    # Hydra reads its overrides from sys.argv and names the job after the script, as when run directly.
    sys.argv = [str(script), *rest]
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as done:  # Hydra exits with a status of its own on errors and --help
        if isinstance(done.code, int) or done.code is None:
            return done.code or 0
        print(done.code, file=sys.stderr)  # a message: say it, as Python would on exit
        return 1
    finally:
        sys.argv = saved
    return 0


if __name__ == "__main__":
    sys.exit(main())
