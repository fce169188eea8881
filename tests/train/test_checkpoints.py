"""Resume takes the newest checkpoint that was written completely."""

from __future__ import annotations

from pathlib import Path

from stancekit.train.checkpoints import is_complete_checkpoint, last_complete_checkpoint


def fake_checkpoint(folder: Path, complete: bool = True, state: str = "{}") -> Path:
    folder.mkdir(parents=True)
    for name in ("model.safetensors", "optimizer.pt", "scheduler.pt"):
        (folder / name).write_bytes(b"x")
    if complete:
        (folder / "trainer_state.json").write_text(state)
    return folder


def test_resume_passes_over_a_half_written_checkpoint(tmp_path):
    assert last_complete_checkpoint(tmp_path / "none") is None
    good = fake_checkpoint(tmp_path / "checkpoint-10")
    fake_checkpoint(tmp_path / "checkpoint-20", complete=False)  # killed before trainer_state.json
    fake_checkpoint(tmp_path / "checkpoint-30", state='{"global_st')  # killed while writing it
    fake_checkpoint(tmp_path / "checkpoint-5")
    (tmp_path / "checkpoint-40").mkdir()  # killed right after mkdir
    assert last_complete_checkpoint(tmp_path) == str(good)
    assert not is_complete_checkpoint(tmp_path / "checkpoint-20")
