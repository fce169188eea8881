"""The ``stancekit`` command forwards to the scripts' Hydra apps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stancekit.cli import COMMANDS, main
from stancekit.config import PROJECT_ROOT


def test_every_command_has_its_script_and_config():
    for command in COMMANDS:
        assert (PROJECT_ROOT / "scripts" / f"{command}.py").is_file()
        assert (PROJECT_ROOT / "configs" / f"{command}.yaml").is_file()


def test_usage_and_unknown_commands(capsys):
    assert main([]) == 0 and "usage: stancekit COMMAND" in capsys.readouterr().out
    assert main(["fly"]) == 2 and "unknown command 'fly'" in capsys.readouterr().err


def test_overrides_reach_hydra_unchanged(tmp_path):
    """`stancekit train --cfg job ...` composes exactly what `python scripts/train.py --cfg job ...` does."""
    overrides = ["--cfg", "job", "experiment=nli_mix", "train.learning_rate=3e-5", f"hydra.run.dir={tmp_path}"]
    via_cli = subprocess.run(
        [sys.executable, "-m", "stancekit", "train", *overrides], cwd=tmp_path, capture_output=True, text=True
    )
    direct = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "train.py"), *overrides],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert via_cli.returncode == 0, via_cli.stderr[-2000:]
    assert via_cli.stdout == direct.stdout and "learning_rate: 3.0e-05" in via_cli.stdout
    assert "name: nli_mix" in via_cli.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "stancekit", "train", "train.learnin_rate=1"], capture_output=True, text=True
    )
    assert bad.returncode != 0 and "learnin_rate" in bad.stderr


def test_the_console_script_is_installed():
    """`make install` (pip install -e .) puts `stancekit` beside the interpreter."""
    script = Path(sys.executable).parent / "stancekit"
    assert script.is_file(), "reinstall: pip install -e . (the [project.scripts] entry)"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "commands:" in done.stdout and "train" in done.stdout
